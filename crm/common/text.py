"""Normalising what people type: full-width characters, spaces, brackets, case."""
import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfkc(value: str | None) -> str:
    """Full-width letters/digits/brackets to half-width (（）→ (), Ａ→A, １→1)."""
    return unicodedata.normalize("NFKC", value or "")


def clean(value: str | None) -> str:
    """Trim and collapse inner whitespace; keeps the text as typed otherwise."""
    return _SPACES.sub(" ", (value or "").replace("\u3000", " ")).strip()


def normalise_name(name: str | None) -> str:
    """The key used for near-duplicate names: width, spaces, bracket style and case folded."""
    return _SPACES.sub("", nfkc(name)).lower()


def like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# What no text field keeps: C0 and C1 control characters (a multi-line field keeps tab and newline),
# lone surrogates, and Unicode non-characters (U+FDD0–U+FDEF, U+FFFE and U+FFFF of every plane).
# They break XML (every .xlsx), terminals and logs, and no one types them.
_NONCHARS = "\ufdd0-\ufdef" + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARS}]")
_UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARS}]")


def safe_text(value, multiline: bool = False):
    """`value` without the characters no field keeps; line ends become \\n in a multi-line field,
    a line break in a one-line field becomes a space. Non-strings pass through."""
    if not isinstance(value, str):
        return value
    if multiline:
        return _UNSAFE_TEXT.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return _UNSAFE_LINE.sub("", re.sub(r"[\r\n\t]+", " ", value))
