"""Argon2id password hashing (PW-1), with a constant-cost path for unknown accounts."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 accepts more; a bound keeps one login from costing unbounded CPU

_hasher = PasswordHasher()  # argon2id with the RFC 9106 low-memory profile
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


class WeakPassword(ValueError):
    pass


COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# Runs a guesser tries first: alphabet, digits, keyboard rows (each also reversed).
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
_DECORATION = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$")  # digits and symbols around a word


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _smallest_repeated_unit(text: str) -> str:
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _is_sequence(text: str) -> bool:
    runs = [seq * 4 for seq in _SEQUENCES] + [seq[::-1] * 4 for seq in _SEQUENCES]
    return any(text in run for run in runs)


def weakness(password: str, email: str = "") -> str | None:
    """Why a guesser would find this password early, or None. Length is checked separately."""
    lowered = password.lower()
    unit = _smallest_repeated_unit(lowered)
    decorated = _DECORATION.match(lowered)
    core = decorated.group(1) if decorated else lowered
    common = common_passwords()
    if len(set(lowered)) <= 2 or (unit != lowered and len(unit) <= 4):
        return "it repeats a short pattern"
    if _is_sequence(lowered) or _is_sequence(unit):
        return "it is a keyboard or alphabet sequence"
    if lowered in common or unit in common or (len(core) >= 4 and (core in common or _is_sequence(core))):
        return "it is (or is built on) one of the most common passwords"
    # Names in the address (nora.nurse@...): a word of 4+ letters from it inside the password.
    names = [part for part in re.split(r"[^a-z0-9]+", email.split("@")[0].lower()) if len(part) >= 4]
    if any(name in lowered for name in names):
        return "it contains the e-mail address"
    return None


def check_strength(password: str, email: str = "") -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password must be at most {MAX_LENGTH} characters")
    reason = weakness(password, email)
    if reason:
        raise WeakPassword(f"password refused: {reason}; a few unrelated words make a strong one")


def hash_password(password: str, email: str = "") -> str:
    check_strength(password, email)
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """False for a mismatch or a missing account; the cost is the same either way."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def rehash(password: str) -> str:
    """A fresh hash of an already accepted password (strength was checked at creation)."""
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
