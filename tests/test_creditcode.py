import random

import pytest

from crm.enterprises import creditcode


def test_spec_examples():
    assert creditcode.problem("91350100M000100Y43") is None
    message = creditcode.problem("91350100M000100Y4Z")
    assert "校验位" in message and "3" in message


def test_weights_are_powers_of_three_mod_31():
    assert creditcode.WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


@pytest.mark.parametrize("raw", [" 91350100m000100y43 ", "９１３５０１００Ｍ０００１００Ｙ４３", "91350100 M000100 Y43"])
def test_normalised_before_check(raw):
    assert creditcode.normalise(raw) == "91350100M000100Y43"
    assert creditcode.is_valid(raw)


def test_length_and_alphabet_messages():
    assert "18位" in creditcode.problem("91350100M000100")
    assert "无效字符" in creditcode.problem("91350100M00010OY43")  # letter O


def test_check_value_31_becomes_zero():
    # Search for a body whose weighted sum is ≡ 0 mod 31: its check character must be "0".
    rng = random.Random(1)
    for _ in range(10000):
        body = "91110115" + "".join(rng.choice(creditcode.ALPHABET) for _ in range(9))
        total = sum(creditcode.VALUES[c] * w for c, w in zip(body, creditcode.WEIGHTS))
        if total % 31 == 0:
            assert creditcode.check_char(body) == "0"
            return
    pytest.fail("no body with sum ≡ 0 found")


def test_generated_codes_are_valid():
    rng = random.Random(7)
    for _ in range(200):
        code = creditcode.generate(rng)
        assert code.startswith("91110115") and creditcode.is_valid(code)
    assert creditcode.generate(rng, prefix="81").startswith("81")
