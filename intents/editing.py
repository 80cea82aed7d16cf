"""Editing Rasa NLU examples in place: add to an intent, move to another intent, remove.

Edits are made line by line in the existing files, so comments, order and
formatting stay as the trainer wrote them; each file is replaced atomically
and read back with :mod:`intents.yaml_reader` (an edit that would make it
unreadable is refused and the file left as it was). Examples are identified by
file and line, checked against the text the page showed, so an edit made on a
stale page is refused rather than hitting the wrong line.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import DataError
from bot.problems import Problem
from intents.annotations import parse_annotations
from intents.data import data_files
from intents.examples import Example, TrainingData
from intents.validation import MIN_EXAMPLES, validate
from intents.yaml_reader import read_file

MAX_EXAMPLE = 300  # characters: an example is a sentence, not a paste
_LOCK = threading.Lock()  # one edit at a time in this process


@dataclass
class IntentsView:
    """The training data as the intents page shows it: examples per intent, and every problem."""

    folder: Path
    examples: dict[str, list[Example]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    data: TrainingData = field(default_factory=TrainingData)

    def relative(self, path: str | Path) -> str:
        """A file's name relative to the data folder (as forms carry it)."""
        try:
            return Path(path).resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return Path(path).name


def read_view(folder: Path | str, *, min_examples: int = MIN_EXAMPLES) -> IntentsView:
    """Read every file of ``folder`` without stopping at problems (file:line for each)."""
    root = Path(folder)
    files = data_files(root) if root.is_dir() else []
    data = TrainingData(files=files)
    problems: list[Problem] = []
    for path in files:
        read_file(path, data, problems)
    if files:
        problems.extend(validate(data, min_examples=min_examples))
    else:
        problems.append(Problem(str(root), None, "no training data (*.yml) found"))
    view = IntentsView(root, problems=problems, files=files, data=data)
    for ex in data.examples:
        view.examples.setdefault(ex.intent, []).append(ex)
    view.examples = dict(sorted(view.examples.items()))
    return view


def clean_example(text: str) -> str:
    """One example as it will be written: whitespace collapsed; DataError naming the problem otherwise."""
    flat = " ".join(text.split())
    if not flat:
        raise DataError("The example is empty.")
    if len(flat) > MAX_EXAMPLE:
        raise DataError(f"An example is at most {MAX_EXAMPLE} characters (this one has {len(flat)}).")
    try:
        plain, _ = parse_annotations(flat)
    except ValueError as exc:
        raise DataError(f"The example has a {exc}.") from None
    if not plain.strip():
        raise DataError("The example is empty once its entity annotations are removed.")
    return flat


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def _plain(raw_line: str) -> str | None:
    """The example text a ``- example`` line holds (annotations removed), or None for another kind of line."""
    stripped = raw_line.strip()
    if not stripped.startswith("-"):
        return None
    text = stripped[1:].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    try:
        return parse_annotations(text)[0].strip()
    except ValueError:
        return None


class IntentsEditor:
    """Adds, moves and removes examples in the Rasa files of one folder."""

    def __init__(self, folder: Path | str, *, min_examples: int = MIN_EXAMPLES) -> None:
        self.folder = Path(folder)
        self.min_examples = min_examples

    def view(self) -> IntentsView:
        """The current examples and problems."""
        return read_view(self.folder, min_examples=self.min_examples)

    def file(self, relative: str) -> Path:
        """One of the folder's data files by its relative name (never a path outside the folder)."""
        for path in data_files(self.folder):
            if Path(path).resolve().relative_to(self.folder.resolve()).as_posix() == relative:
                return Path(path)
        raise DataError(f"No training-data file '{relative}' in the intents folder.")

    def add(self, intent: str, texts: list[str]) -> list[str]:
        """Append examples to an existing intent; returns those written (ones already there are skipped)."""
        with _LOCK:
            view = self.view()
            return self._insert(view, intent, [clean_example(t) for t in texts])

    def remove(self, relative: str, line: int, text: str) -> str:
        """Remove the example shown as ``text`` at ``relative``:``line``; returns its raw text (annotations kept)."""
        with _LOCK:
            path = self.file(relative)
            return self._remove_line(path, line, text)

    def move(self, relative: str, line: int, text: str, to_intent: str) -> None:
        """Move one example (its annotations kept) to another intent."""
        with _LOCK:
            view = self.view()
            if to_intent not in view.examples:
                raise DataError(f"No intent '{to_intent}' (the intent field).")
            path = self.file(relative)
            before = path.read_text(encoding="utf-8")
            raw = self._remove_line(path, line, text)
            try:
                self._insert(self.view(), to_intent, [raw], moving=True)
            except DataError:
                _write(path, before)
                raise

    def remove_texts(self, intent: str, texts: list[str]) -> int:
        """Remove the examples of ``intent`` whose text is one of ``texts`` (undo of :meth:`add`); how many."""
        wanted = {_key(parse_annotations(t)[0]) for t in texts}
        removed = 0
        with _LOCK:
            while True:
                view = self.view()
                hit = next((ex for ex in view.examples.get(intent, []) if _key(ex.text) in wanted), None)
                if hit is None or hit.line is None:
                    return removed
                self._remove_line(Path(hit.path), hit.line, hit.text)
                wanted.discard(_key(hit.text))
                removed += 1

    # -- internals (called with the lock held) --

    def _insert(self, view: IntentsView, intent: str, raws: list[str], *, moving: bool = False) -> list[str]:
        examples = view.examples.get(intent)
        if not examples:
            raise DataError(f"No intent '{intent}' (the intent field).")
        known = {_key(ex.text): ex for exs in view.examples.values() for ex in exs}
        defined = view.data.entity_names()
        fresh: list[str] = []
        for raw in raws:
            plain, entities = parse_annotations(raw)
            other = known.get(_key(plain))
            if other is not None and other.intent == intent:
                if moving:
                    raise DataError(f"'{plain}' is already an example of intent '{intent}'.")
                continue
            if other is not None:
                raise DataError(f"'{plain}' is already an example of intent '{other.intent}' "
                                f"({view.relative(other.path)}:{other.line}); move it instead.")
            for ent in entities:
                if ent.entity not in defined:
                    raise DataError(f"The entity '{ent.entity}' in '{raw}' is not defined in the training data.")
            if raw not in fresh:
                fresh.append(raw)
        if not fresh:
            return []
        last = max((ex for ex in examples if ex.line is not None and ex.path == examples[-1].path),
                   key=lambda ex: ex.line or 0, default=None)
        if last is None or last.line is None:
            raise DataError(f"The examples of intent '{intent}' cannot be located; edit the file by hand.")
        path = Path(last.path)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        anchor = lines[last.line - 1]
        if _plain(anchor) is None:
            raise DataError(f"The examples of intent '{intent}' are not a '- example' list; edit the file by hand.",
                            path=view.relative(path), line=last.line)
        indent = anchor[: len(anchor) - len(anchor.lstrip())]
        if not anchor.endswith("\n"):
            lines[last.line - 1] = anchor + "\n"
        lines[last.line:last.line] = [f"{indent}- {raw}\n" for raw in fresh]
        self._replace_checked(path, "".join(lines), {intent: [parse_annotations(r)[0].strip() for r in fresh]})
        return [parse_annotations(r)[0].strip() for r in fresh]

    def _remove_line(self, path: Path, line: int, text: str) -> str:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not 1 <= line <= len(lines) or " ".join((_plain(lines[line - 1]) or "").split()) != " ".join(text.split()):
            raise DataError(f"The example '{text}' is no longer at {path.name}:{line} (the file changed); "
                            "reload the page.")
        raw = lines[line - 1].strip()[1:].strip()
        del lines[line - 1]
        self._replace_checked(path, "".join(lines), {})
        return raw

    def _replace_checked(self, path: Path, text: str, expect: dict[str, list[str]]) -> None:
        """Write ``text`` over ``path``; put the old text back if the file then reads worse or lacks ``expect``."""
        before = path.read_text(encoding="utf-8")
        old_problems = _file_problems(path)
        _write(path, text)
        data = TrainingData()
        problems: list[Problem] = []
        read_file(path, data, problems)
        got = {(e.intent, e.text) for e in data.examples}
        missing = [t for intent, ts in expect.items() for t in ts if (intent, t) not in got]
        if len(problems) > old_problems or missing:
            _write(path, before)
            raise DataError("That edit would not read back as written (the file was left unchanged); "
                            "edit the file by hand.", path=path.name)


def _file_problems(path: Path) -> int:
    problems: list[Problem] = []
    read_file(path, TrainingData(), problems)
    return len(problems)


def _write(path: Path, text: str) -> None:
    """Replace a file atomically (a reader never sees half of it)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["MAX_EXAMPLE", "IntentsEditor", "IntentsView", "clean_example", "read_view"]
