"""统一社会信用代码 (GB 32100-2015): normalisation and the check character."""
import random

from crm.common.text import nfkc

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, S, V, Z
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, 17, 20, ...


def normalise(raw: str | None) -> str:
    """Upper-case, half-width, without spaces. '' when nothing was typed."""
    return "".join(nfkc(raw).split()).upper()


def check_char(first17: str) -> str:
    total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """None when `code` (already normalised) is valid, else a Chinese message saying what fails."""
    if len(code) != 18:
        return f"统一社会信用代码应为18位，当前为{len(code)}位"
    bad = sorted({ch for ch in code[:17] if ch not in VALUES})
    if bad:
        return "统一社会信用代码含有无效字符：" + "、".join(bad) + "（不使用 I、O、S、V、Z）"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误：第18位应为 {expected}，填写的是 {code[17]}"
    return None


def is_valid(code: str) -> bool:
    return problem(normalise(code)) is None


def generate(rng: random.Random, prefix: str = "91", area: str = "110115") -> str:
    """A valid code for demo data: prefix + area + 9-character organisation code + check."""
    body = prefix + area + "".join(rng.choice(ALPHABET) for _ in range(17 - len(prefix) - len(area)))
    return body + check_char(body)
