"""Case codes: easy to type, ≥ 80 bits, and every single typo or neighbour swap is caught."""

from __future__ import annotations

import re

import pytest

from chatbot.upload import codes, errors


def test_shape_and_entropy() -> None:
    code = codes.new_case_code()
    assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){4}[0-9A-HJKMNP-TV-Z]{4}", code)
    assert codes.DATA_CHARS * 5 >= 80
    assert len({codes.new_case_code() for _ in range(1000)}) == 1000


def test_forgiving_about_case_spaces_and_confusable_letters() -> None:
    code = codes.new_case_code()
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert codes.normalize(typed) == code
    assert codes.code_hash(typed) == codes.code_hash(code)


def test_every_single_character_typo_is_caught() -> None:
    for _ in range(20):
        plain = codes.new_case_code().replace("-", "")
        for position in range(len(plain)):
            for replacement in codes.ALPHABET:
                if replacement == plain[position]:
                    continue
                typo = plain[:position] + replacement + plain[position + 1 :]
                with pytest.raises(errors.MistypedCaseCode):
                    codes.normalize(typo)


def test_neighbour_swaps_are_caught() -> None:
    for _ in range(50):
        plain = codes.new_case_code().replace("-", "")
        for i in range(len(plain) - 1):
            if plain[i] == plain[i + 1]:
                continue
            swapped = plain[:i] + plain[i + 1] + plain[i] + plain[i + 2 :]
            with pytest.raises(errors.MistypedCaseCode):
                codes.normalize(swapped)


@pytest.mark.parametrize("bad", ["", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWU", None, 12345, "X" * 200])
def test_malformed(bad: object) -> None:
    with pytest.raises(errors.MalformedCaseCode):
        codes.normalize(bad)


def test_a_code_in_a_chat_message_is_found_and_can_be_masked() -> None:
    code = codes.new_case_code()
    for written in (code, code.lower(), code.replace("-", " "), code.replace("-", "")):
        text = f"hej, min kod är {written}. vad har hänt?"
        assert codes.normalize(codes.find_case_code(text) or "") == code
        assert code.replace("-", "") not in codes.redact_case_codes(text).upper().replace("-", "").replace(
            " ", ""
        )
        assert codes.redact_case_codes(text) == f"hej, min kod är {codes.MASK}. vad har hänt?"
    assert codes.find_case_code("vad har hänt med mitt ärende") is None
    assert codes.redact_case_codes("inga koder här, bara ord") == "inga koder här, bara ord"


def test_every_code_has_a_digit() -> None:
    assert all(any(ch.isdigit() for ch in codes.new_case_code()) for _ in range(2000))


def test_every_code_is_found_however_a_child_writes_it() -> None:
    """Lower case, spaces for dashes, O for 0 and l for 1: still a code in a chat message, and still the
    same code. A code whose only digits were 0s or 1s used to read as five words then (one in ~500)."""
    from chatbot.domain import returns

    for make, normalize in (
        (codes.new_case_code, codes.normalize),
        (returns.new_return_code, returns.normalize),
    ):
        for _ in range(2000):
            code = make()
            written = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
            assert codes.find_case_code(f"vad har hänt med {written}?") == written, code
            assert normalize(written) == normalize(code)


@pytest.mark.parametrize(
    "prose",
    [
        "jag vill inte leva utan dina",  # five four-letter words: a code's shape, a child's words
        "this will have been done with",
        "hahahahahahahahahaha",
    ],
)
def test_words_shaped_like_a_code_are_left_alone(prose: str) -> None:
    assert codes.find_case_code(prose) is None
    assert codes.redact_case_codes(prose) == prose


def test_a_code_after_words_shaped_like_one_is_still_found_and_masked() -> None:
    code = codes.new_case_code()
    text = f"vill inte leva utan dina {code.lower().replace('-', ' ')}"
    assert codes.normalize(codes.find_case_code(text) or "") == code
    assert codes.redact_case_codes(text) == f"vill inte leva utan dina {codes.MASK}"
    # A mistyped or malformed code written as printed is masked too: it is (nearly) a secret.
    assert codes.redact_case_codes("ABCD-EFGH-JKMN-PQRS-TVWU") == codes.MASK
