"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

18 characters from the 31-character alphabet 0-9 A-H J-N P-R T U W-Y; the last is a check character computed
from the first 17 with weights 3^i mod 31. Some early codes fail the check yet are real, so a well-formed code
with a bad check character is accepted with a warning, and a malformed one is refused.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from services.errors import InvalidInput

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {char: value for value, char in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, 16, ...


@dataclass(frozen=True)
class CreditCode:
    code: str
    checksum_ok: bool


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a code."""
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def parse_uscc(raw: str, *, field: str = "uscc") -> CreditCode:
    """Normalise and validate a credit code; raise InvalidInput naming `field` if malformed."""
    code = (raw or "").strip().upper()
    if len(code) != 18:
        raise InvalidInput.field(field, _("统一社会信用代码应为18位，当前为%(length)d位") % {"length": len(code)})
    bad = sorted({char for char in code if char not in _VALUE})
    if bad:
        raise InvalidInput.field(
            field,
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用I、O、Z、S、V）") % {"chars": "".join(bad)},
        )
    return CreditCode(code=code, checksum_ok=check_character(code[:17]) == code[17])


_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def generate_uscc(rng, *, division: str = "320583") -> str:
    """A well-formed credit code with a correct check character, for seeds and tests.

    `rng` is a `random.Random`; `division` is the administrative division (320583 = 昆山市). Positions 9-17
    carry an organisation code whose own GB 11714 check character is computed too.
    """
    while True:
        body = "".join(rng.choice(_ORG_BODY_ALPHABET[:10] if i < 2 else _ORG_BODY_ALPHABET) for i in range(8))
        total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
        org_check = 11 - total % 11
        org_char = {10: "X", 11: "0"}.get(org_check, str(org_check))
        first17 = "91" + division + body + org_char
        if all(char in _VALUE for char in first17):
            return first17 + check_character(first17)
