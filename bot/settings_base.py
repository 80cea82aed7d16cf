"""Foundation for settings: the section base class and the secret types every section uses.

Each library owns its settings section (a :class:`Section`); ``bot.config``
composes them into one ``Settings``. This module imports nothing else from
``bot``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

# A secret the bot *checks* (a signature key, a bearer token, a webhook secret)
# must be long enough that it cannot be guessed; an empty one would switch the
# check off.
MIN_SHARED_SECRET_LENGTH = 16


def _non_empty(value: SecretStr) -> SecretStr:
    plain = value.get_secret_value()
    if not plain.strip():
        raise ValueError("must not be empty (leave it unset to turn the feature off)")
    if plain != plain.strip():
        raise ValueError("must not start or end with whitespace")
    return value


def _shared_secret(value: SecretStr) -> SecretStr:
    _non_empty(value)
    if len(value.get_secret_value()) < MIN_SHARED_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SHARED_SECRET_LENGTH} characters long")
    return value


# A credential the bot presents to another system (a bot token, a bind password).
Credential = Annotated[SecretStr, AfterValidator(_non_empty)]
# A secret the bot verifies callers with: never empty, never short.
SharedSecret = Annotated[SecretStr, AfterValidator(_shared_secret)]


class Section(BaseModel):
    """Base for every settings section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


SOURCE_DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def default_data_dir() -> Path:
    """``./data`` when it exists, else the bundled content beside the code (any working directory)."""
    local = Path("data")
    if local.is_dir() or not SOURCE_DATA_DIR.is_dir():
        return local
    return SOURCE_DATA_DIR


__all__ = ["Credential", "MIN_SHARED_SECRET_LENGTH", "Section", "SharedSecret", "default_data_dir"]
