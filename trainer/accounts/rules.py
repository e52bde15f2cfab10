"""Pure account rules: roles, national ID numbers, phone numbers, region codes.

Numbers are read after NFKC normalisation (full-width ``１３８…`` is the same number as ``138…``)
and matched with ASCII-only patterns: ``\\d`` would also accept Arabic-Indic or Devanagari digits,
and ``int()`` would happily compute a check digit from them.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Role(StrEnum):
    WORKER = "worker"
    INSTRUCTOR = "instructor"
    EMPLOYER_ADMIN = "employer_admin"
    ADMIN = "admin"


class ProductionState(StrEnum):
    NORMAL = "normal"
    SUSPENDED = "suspended"
    RESUMING = "resuming"


ROLE_ALIASES: dict[str, Role] = {
    "worker": Role.WORKER, "学员": Role.WORKER, "工人": Role.WORKER, "作业人员": Role.WORKER,
    "instructor": Role.INSTRUCTOR, "讲师": Role.INSTRUCTOR, "教师": Role.INSTRUCTOR,
    "employer_admin": Role.EMPLOYER_ADMIN, "employer admin": Role.EMPLOYER_ADMIN,
    "单位管理员": Role.EMPLOYER_ADMIN, "单位安全管理员": Role.EMPLOYER_ADMIN, "安全员": Role.EMPLOYER_ADMIN,
    "admin": Role.ADMIN, "管理员": Role.ADMIN,
}


def parse_role(text: str) -> Role:
    key = text.strip().lower()
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    raise ValueError(text)


# GB 11643-1999: 17 digits and a check character computed with ISO 7064 MOD 11-2.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


def nfkc(text: str) -> str:
    """Compatibility forms to their plain equivalents: full-width digits, letters and spaces."""
    return unicodedata.normalize("NFKC", text)


class InvalidNationalId(ValueError):
    """The reason is one of: length, characters, birth_date, checksum."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def national_id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalise_national_id(raw: str) -> str:
    """Return the canonical 18-character ID (upper-case X) or raise InvalidNationalId."""
    import datetime as dt

    value = nfkc(raw).strip().replace(" ", "").upper()
    if len(value) != 18:
        raise InvalidNationalId("length")
    if not _ID_PATTERN.fullmatch(value):
        raise InvalidNationalId("characters")
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidNationalId("birth_date") from None
    if national_id_check_char(value[:17]) != value[17]:
        raise InvalidNationalId("checksum")
    return value


def mask_national_id(value: str | None) -> str:
    """Keep the region (6) and the last 4 characters; hide the birth date and sequence."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_PHONE_PATTERN = re.compile(r"1[3-9][0-9]{9}", re.ASCII)


def normalise_phone(raw: str) -> str | None:
    """A mainland mobile number (11 digits, optional +86/0086 prefix), or None."""
    value = re.sub(r"[\s-]", "", nfkc(raw).strip())
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    return value if _PHONE_PATTERN.fullmatch(value) else None


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    return value[:3] + "****" + value[-4:] if len(value) == 11 else value


_REGION_PATTERN = re.compile(r"[0-9]{6}", re.ASCII)


def is_region_code(code: str) -> bool:
    return bool(_REGION_PATTERN.fullmatch(code))


def region_prefix(code: str) -> str:
    """The significant prefix of a 6-digit code: 340000 → 34, 340100 → 3401, 340102 → 340102."""
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def region_covers(selector: str, code: str) -> bool:
    """Whether a region selector (a prefix such as 34, or a full code) covers a 6-digit code."""
    return code.startswith(region_prefix(selector))


def region_parent(code: str) -> str | None:
    prefix = region_prefix(code)
    if len(prefix) <= 2:
        return None
    return prefix[:-2].ljust(6, "0")


USERNAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,39}\Z", re.ASCII)
MIN_PASSWORD_LENGTH = 8
# Longer log-in names or passwords are refused before any lookup or hashing: no account has a
# login this long (usernames ≤ 40, phone numbers 11 digits plus spacing and +86).
MAX_LOGIN_LENGTH = 60
MAX_PASSWORD_LENGTH = 200


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None. Kept simple and explainable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if password.isdigit() or password.isalpha():
        return "letters_and_digits"
    return None
