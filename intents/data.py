"""Rasa 3.x NLU training data: load ``*.yml`` files unchanged and validate them.

Reads ``nlu:`` items (``intent`` + ``examples`` with inline entity annotations,
``synonym``, ``regex``, ``lookup``) and, from Rasa domain files, the declared
``entities``. Every problem is reported with its file and line; training
refuses data with problems (:class:`TrainingDataError` lists them all).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from bot.errors import DataError
from bot.problems import Problem
from intents.annotations import AnnotatedEntity, parse_annotations
from intents.examples import Example, Pattern, TrainingData
from intents.validation import MIN_EXAMPLES, validate
from intents.yaml_reader import read_file


class TrainingDataError(DataError):
    """The training data has problems; ``problems`` lists every one with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        shown = "\n".join(f"  {p}" for p in problems[:15])
        more = f"\n  … and {len(problems) - 15} more" if len(problems) > 15 else ""
        super().__init__(
            f"{len(problems)} problem(s) in the training data; fix them and train again:\n{shown}{more}",
            detail=str(first),
        )
        # DataError prefixes path:line for a single location; the list already names them.
        self.path, self.line = first.path, first.line


def data_files(source: Path | str | Iterable[Path | str]) -> list[Path]:
    """The ``*.yml``/``*.yaml`` files of a folder (recursively, sorted) or the given files."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
        return [path]
    return [Path(p) for p in source]


def fingerprint_files(files: Iterable[Path], extra: str = "") -> str:
    """A stable digest of the files' names and contents (and ``extra``, e.g. the model config)."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(files, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def load_training_data(source: Path | str | Iterable[Path | str], *,
                       min_examples: int = MIN_EXAMPLES) -> TrainingData:
    """Load and validate Rasa NLU data; raises :class:`TrainingDataError` listing every problem."""
    files = data_files(source)
    problems: list[Problem] = []
    data = TrainingData(files=files)
    if not files:
        where = source if isinstance(source, (str, Path)) else "the given files"
        raise TrainingDataError([Problem(str(where), None, "no training data (*.yml) found")])
    for path in files:
        read_file(path, data, problems)
    problems.extend(validate(data, min_examples=min_examples))
    if problems:
        raise TrainingDataError(problems)
    data.fingerprint = fingerprint_files(files)
    return data


__all__ = ["MIN_EXAMPLES", "AnnotatedEntity", "Example", "Pattern", "Problem", "TrainingData", "TrainingDataError",
           "data_files", "fingerprint_files", "load_training_data", "parse_annotations", "validate"]
