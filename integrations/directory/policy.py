"""The bot's own password rules, checked before the directory applies its policy.

Length; three character classes *or* a long passphrase; not the person's
name, login or e-mail; not in the bundled list of common/breached passwords
(compared after lower-casing, undoing common letter/digit swaps and trimming
trailing digits and symbols, so "P@ssw0rd2024!" counts as "password").
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from integrations.directory.client import Account
from integrations.directory.settings import DirectorySettings

log = logging.getLogger(__name__)
DEFAULT_LIST = Path(__file__).resolve().parents[2] / "data" / "directory" / "common-passwords.txt"
MAX_LENGTH = 128
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s",
                       "7": "t", "+": "t"})


@dataclass(frozen=True)
class PasswordRules:
    """What a new password must satisfy (from ``[directory]``); the directory's own policy applies too."""

    min_length: int = 12
    passphrase_length: int = 20
    min_classes: int = 3
    common_file: Path = DEFAULT_LIST

    @classmethod
    def from_settings(cls, s: DirectorySettings) -> PasswordRules:
        return cls(min_length=s.min_password_length,
                   passphrase_length=max(s.passphrase_length, s.min_password_length),
                   common_file=s.common_passwords_file or DEFAULT_LIST)

    def describe(self) -> list[str]:
        """The rules, as shown on the reset page."""
        return [
            f"At least {self.min_length} characters.",
            f"Mix at least {self.min_classes} of: lower-case letters, upper-case letters, digits, symbols "
            f"— or use a passphrase of {self.passphrase_length} characters or more (for example four "
            "unrelated words).",
            "Not your name, login or e-mail address.",
            "Not a common or previously breached password.",
            "Not one of your recent passwords (the directory checks this).",
        ]


@lru_cache(maxsize=4)
def load_common(path: Path) -> frozenset[str]:
    """The lower-cased common/breached passwords listed in ``path`` (empty when it cannot be read)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        log.error("common-password list %s cannot be read (%s): only the other rules apply; "
                  "set directory.common_passwords_file", path, exc.strerror)
        return frozenset()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _variants(password: str) -> set[str]:
    low = password.lower()
    out = {low, low.translate(_LEET)}
    for v in list(out):
        out.add(re.sub(r"[\d\W_]+$", "", v))
        out.add(re.sub(r"^[\d\W_]+", "", v))
    return {v for v in out if v}


def check_password(password: str, confirm: str | None, account: Account | None,
                   rules: PasswordRules) -> list[str]:
    """Problems with ``password`` (empty list: acceptable to us; the directory may still refuse)."""
    problems: list[str] = []
    if confirm is not None and password != confirm:
        problems.append("The two passwords are not the same.")
    if len(password) < rules.min_length:
        problems.append(f"It is shorter than {rules.min_length} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"It is longer than {MAX_LENGTH} characters.")
    if password != password.strip():
        problems.append("It starts or ends with a space.")
    classes = sum([any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password),
                   any(not c.isalnum() for c in password)])
    if len(password) < rules.passphrase_length and classes < rules.min_classes:
        problems.append(f"It needs {rules.min_classes} kinds of characters (lower case, upper case, "
                        f"digits, symbols), or {rules.passphrase_length}+ characters as a passphrase.")
    if account is not None:
        low = password.lower()
        parts = {account.login, account.given_name, account.surname, account.email.split("@")[0]}
        parts |= set(re.split(r"[\s.\-_']+", account.display_name))
        if any(p and len(p) >= 3 and p.lower() in low for p in parts):
            problems.append("It contains your name, login or e-mail address.")
    common = load_common(rules.common_file)
    if common and any(v in common for v in _variants(password)):
        problems.append("It is a common or previously breached password.")
    elif len(set(password)) <= 3:
        problems.append("It repeats too few different characters.")
    return problems


def generate_temporary(length: int = 16) -> str:
    """A random password with every character class, free of look-alike characters."""
    alphabet = [c for c in string.ascii_letters + string.digits if c not in "Il1O0o"]
    symbols = "-_.#%+=!"
    while True:
        chars = [secrets.choice(alphabet) for _ in range(length - 2)] + [secrets.choice(symbols) for _ in range(2)]
        secrets.SystemRandom().shuffle(chars)
        value = "".join(chars)
        if (any(c.islower() for c in value) and any(c.isupper() for c in value)
                and any(c.isdigit() for c in value)):
            return value
