"""What a staff member's own password must be (ASVS 2.1): at least 12 characters, and not a common or breached one.

The list of common passwords ships with the console (`console/data/common-passwords.txt`, its source in its
header): nothing is asked of any outside service, so no part of a password ever leaves the server.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
# argon2id hashes any length, but a form field of megabytes is not a password (and costs memory to hash).
MAX_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
# "sommar2026!", "qwertyuiop123": a common word with digits or symbols tacked on is as weak as the word.
_TAIL = re.compile(r"[\d\W_]+$")


class Weakness(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    HAS_NAME = "has_name"
    MISMATCH = "mismatch"
    ONE_TIME = "one_time"


class WeakPassword(ValueError):
    """The new password is refused; `weakness` says why (the page shows the text for it)."""

    def __init__(self, weakness: Weakness) -> None:
        super().__init__(weakness.value)
        self.weakness = weakness


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_new_password(password: object, repeated: object, *, name: str) -> str:
    """The password when it may be used; WeakPassword saying why not otherwise."""
    if not isinstance(password, str) or not isinstance(repeated, str) or password != repeated:
        raise WeakPassword(Weakness.MISMATCH)
    if len(password) < MIN_LENGTH:
        raise WeakPassword(Weakness.TOO_SHORT)
    if len(password) > MAX_LENGTH:
        raise WeakPassword(Weakness.TOO_LONG)
    folded = password.lower()
    if name.lower() in folded:
        raise WeakPassword(Weakness.HAS_NAME)
    common = common_passwords()
    stem = _TAIL.sub("", folded)
    if folded in common or (len(stem) >= 4 and stem in common) or len(set(folded)) <= 2:
        raise WeakPassword(Weakness.COMMON)
    return password
