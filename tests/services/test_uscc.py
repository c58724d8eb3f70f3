"""Unified social credit codes (services/register/uscc.py, GB 32100-2015): malformed codes are refused naming the field;
a well-formed code with a wrong check character is accepted and flagged."""

import random

import pytest

from services.errors import InvalidInput
from services.register.uscc import ALPHABET, check_character, generate_uscc, parse_uscc


def _with_check(first17: str) -> str:
    return first17 + check_character(first17)


@pytest.mark.parametrize("code", ["91350100M000100Y43", _with_check("91320583MA1M9E4P2"), _with_check("1" * 17)])
def test_a_known_valid_code_passes_its_checksum(code):
    # Given a real-world shaped credit code with its check character
    # When it is parsed
    parsed = parse_uscc(code)
    # Then it is kept as is, with its checksum good
    assert (parsed.code, parsed.checksum_ok) == (code, True)


def test_the_published_example_has_check_character_3():
    # Given the first 17 characters of a published example code
    # When its check character is computed, Then it is the one printed on the licence
    assert check_character("91350100M000100Y4") == "3"


@pytest.mark.parametrize("seed", range(25))
def test_generated_codes_are_well_formed_with_a_good_checksum(seed):
    # Given a code generated for seeds and tests
    code = generate_uscc(random.Random(seed))
    # When it is parsed, Then it is 18 characters of the allowed alphabet and passes its checksum
    assert len(code) == 18 and set(code) <= set(ALPHABET)
    assert parse_uscc(code).checksum_ok is True
    assert code.startswith("91320583")  # 昆山市


def test_generation_is_deterministic():
    assert generate_uscc(random.Random(7)) == generate_uscc(random.Random(7))


def test_lower_case_and_spaces_are_normalised():
    # Given a code typed in lower case with spaces around it
    # When it is parsed
    parsed = parse_uscc("  91350100m000100y43 ")
    # Then it is upper-cased and trimmed, and still passes
    assert (parsed.code, parsed.checksum_ok) == ("91350100M000100Y43", True)


@pytest.mark.parametrize("raw", ["", None, "91350100M000100Y4", "91350100M000100Y431", "9135"])
def test_a_code_of_the_wrong_length_is_refused_naming_the_field(raw):
    # Given a code that is not 18 characters long
    # When it is parsed
    with pytest.raises(InvalidInput) as refused:
        parse_uscc(raw)
    # Then the uscc field is named with a message giving the length required
    assert list(refused.value.fields) == ["uscc"]
    assert "18" in refused.value.fields["uscc"][0]


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_a_code_with_a_forbidden_letter_is_refused(letter):
    # Given a valid code with one character replaced by a letter the standard does not use
    code = "91350100M000100Y43"
    bad = code[:8] + letter + code[9:]
    # When it is parsed
    with pytest.raises(InvalidInput) as refused:
        parse_uscc(bad)
    # Then the field is named and the message shows the offending letter
    assert letter in refused.value.fields["uscc"][0]


@pytest.mark.parametrize("junk", ["-", "中", "?", "i"])
def test_a_code_with_other_characters_is_refused(junk):
    code = "91350100M000100Y43"
    with pytest.raises(InvalidInput):
        parse_uscc(code[:5] + junk + code[6:])


def test_the_field_name_can_be_chosen_by_the_caller():
    # Given a form whose field is called credit_code
    with pytest.raises(InvalidInput) as refused:
        parse_uscc("123", field="credit_code")
    # Then the error names that field
    assert list(refused.value.fields) == ["credit_code"]


def test_a_wrong_check_character_is_accepted_but_flagged():
    # Given a well-formed code whose last character is not its check character
    code = "91350100M000100Y4" + "4"
    # When it is parsed
    parsed = parse_uscc(code)
    # Then it is accepted (some early real codes fail the check) but flagged for checking
    assert (parsed.code, parsed.checksum_ok) == (code, False)


def test_every_single_character_typo_is_caught_by_the_checksum():
    # Given a valid code
    code = "91350100M000100Y43"
    # When any one of its first 17 characters is mistyped as another allowed character
    for position in range(17):
        for char in ALPHABET:
            if char != code[position]:
                typo = code[:position] + char + code[position + 1 :]
                # Then the checksum no longer passes
                assert parse_uscc(typo).checksum_ok is False, typo
