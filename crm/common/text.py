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
