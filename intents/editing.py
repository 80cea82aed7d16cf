"""Editing Rasa NLU examples in place: add to an intent, move to another intent, remove.

Edits are made line by line in the existing files, so comments, order and
formatting stay as the trainer wrote them; each file is replaced atomically
and read back with :mod:`intents.yaml_reader` (an edit that would make it
unreadable is refused and the file left as it was). Examples are identified by
file and line, checked against the text the page showed, so an edit made on a
stale page is refused rather than hitting the wrong line. Every edit returns
its :class:`intents.edits.Edit` (the lines written and deleted), which
:meth:`IntentsEditor.undo` reverts line by line, refusing when those lines
changed since.
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
from intents.edits import ADD, MOVE, REMOVE, UNDO, Edit, Line, Undone
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
    """Adds, moves and removes examples in the Rasa files of one folder, and undoes such an edit."""

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

    def add(self, intent: str, texts: list[str]) -> Edit:
        """Append examples to an existing intent; the edit holds those written (ones already there are skipped)."""
        with _LOCK:
            view = self.view()
            return Edit(ADD, self._insert(view, intent, [clean_example(t) for t in texts]))

    def remove(self, relative: str, line: int, text: str) -> Edit:
        """Remove the example shown as ``text`` at ``relative``:``line``."""
        with _LOCK:
            path = self.file(relative)
            return Edit(REMOVE, removed=(self._remove_line(self.view(), path, line, text),))

    def move(self, relative: str, line: int, text: str, to_intent: str) -> Edit:
        """Move one example (its annotations kept) to another intent."""
        with _LOCK:
            view = self.view()
            if to_intent not in view.examples:
                raise DataError(f"No intent '{to_intent}' (the intent field).")
            path = self.file(relative)
            before = path.read_text(encoding="utf-8")
            removed = self._remove_line(view, path, line, text)
            try:
                added = self._insert(self.view(), to_intent, [_item(removed.text)], moving=True)
            except DataError:
                _write(path, before)
                raise
            return Edit(MOVE, added, (removed,))

    def undo(self, edit: Edit, *, partial: bool = False) -> Undone:
        """Delete the lines ``edit`` wrote and put back the lines it deleted; the rest of the files stays as it is.

        A line the edit wrote must still be exactly as written, under its intent;
        a deleted example must not be in the data again. Otherwise DataError says
        why (and where) and no file is changed — unless ``partial``: then the
        written lines that changed since are left as they are (``Undone.left``).
        """
        with _LOCK:
            snapshots: dict[Path, str] = {}
            taken: list[Line] = []
            left: list[Line] = []
            restored: list[Line] = []
            try:
                for placed in edit.added:
                    try:
                        view, ex = self._locate(placed)
                    except DataError:
                        if not partial:
                            raise
                        left.append(placed)
                        continue
                    path = Path(ex.path)
                    snapshots.setdefault(path, path.read_text(encoding="utf-8"))
                    taken.append(self._remove_line(view, path, ex.line or 0, ex.text))
                for placed in edit.removed:
                    path = self._home(placed)
                    snapshots.setdefault(path, path.read_text(encoding="utf-8"))
                    restored.append(self._restore(path, placed))
            except BaseException:
                for path, text in snapshots.items():
                    _write(path, text)  # nothing half-undone
                raise
            return Undone(Edit(UNDO, tuple(restored), tuple(taken)), tuple(left))

    # -- internals (called with the lock held) --

    def _insert(self, view: IntentsView, intent: str, raws: list[str], *, moving: bool = False) -> tuple[Line, ...]:
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
            return ()
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
        written = [f"{indent}- {raw}" for raw in fresh]
        lines[last.line:last.line] = [w + "\n" for w in written]
        plains = [parse_annotations(r)[0].strip() for r in fresh]
        self._replace_checked(path, "".join(lines), {intent: plains})
        return tuple(Line(view.relative(path), last.line + 1 + k, intent, plain, text)
                     for k, (plain, text) in enumerate(zip(plains, written, strict=True)))

    def _remove_line(self, view: IntentsView, path: Path, line: int, text: str) -> Line:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        relative = view.relative(path)
        ex = next((e for e in view.data.examples if e.line == line and view.relative(e.path) == relative), None)
        if ex is None or not 1 <= line <= len(lines) or \
                " ".join((_plain(lines[line - 1]) or "").split()) != " ".join(text.split()):
            raise DataError(f"The example '{text}' is no longer at {path.name}:{line} (the file changed); "
                            "reload the page.")
        gone = Line(relative, line, ex.intent, ex.text, lines[line - 1].rstrip("\r\n"),
                    above=lines[line - 2].rstrip("\r\n") if line > 1 else None,
                    below=lines[line].rstrip("\r\n") if line < len(lines) else None)
        del lines[line - 1]
        self._replace_checked(path, "".join(lines), {})
        return gone

    def _locate(self, placed: Line) -> tuple[IntentsView, Example]:
        """Where a line an edit wrote is now; DataError saying how it changed when it is not as written."""
        view = self.view()
        hits = [ex for ex in view.data.examples if _key(ex.text) == _key(placed.example) and ex.line is not None]
        if not hits:
            raise DataError(f"“{placed.example}” is no longer in {placed.file or 'the training data'} "
                            "(removed or changed since), so this edit cannot be undone.")
        mine = [ex for ex in hits if ex.intent == placed.intent]
        if not mine:
            raise DataError(f"“{placed.example}” was moved to intent {hits[0].intent} since, so this edit cannot be "
                            "undone; undo or reverse that move first.",
                            path=view.relative(hits[0].path), line=hits[0].line)
        ex = min(mine, key=lambda e: (bool(placed.file) and view.relative(e.path) != placed.file,
                                      abs((e.line or 0) - placed.line)))
        where = view.relative(ex.path)
        if placed.file and where != placed.file:
            raise DataError(f"“{placed.example}” is now in {where}, not in {placed.file} where this edit wrote it, "
                            "so it cannot be undone.", path=where, line=ex.line)
        current = Path(ex.path).read_text(encoding="utf-8").splitlines()[(ex.line or 1) - 1]
        if placed.text and current != placed.text:
            raise DataError(f"“{placed.example}” was changed since (the line is now “{current.strip()}”), "
                            "so this edit cannot be undone.", path=where, line=ex.line)
        return view, ex

    def _home(self, placed: Line) -> Path:
        """The file a deleted line goes back to; DataError when it cannot go back (it is in the data again)."""
        view = self.view()
        other = next((ex for ex in view.data.examples if _key(ex.text) == _key(placed.example)), None)
        if other is not None:
            raise DataError(f"“{placed.example}” is an example of intent {other.intent} again, so this edit cannot "
                            "be undone.", path=view.relative(other.path), line=other.line)
        if not placed.text:
            raise DataError("The edit's record is incomplete, so it cannot be undone; change the examples by hand.")
        try:
            return self.file(placed.file)
        except DataError:
            raise DataError(f"The file {placed.file} that held “{placed.example}” is gone, so this edit cannot be "
                            "undone.") from None

    def _restore(self, path: Path, placed: Line) -> Line:
        """Put a deleted line back where it was (between the same neighbours, next to its intent's examples)."""
        view = self.view()
        relative = view.relative(path)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        block = [ex.line - 1 for ex in view.examples.get(placed.intent, [])
                 if ex.line is not None and view.relative(ex.path) == relative]
        at = _position(lines, placed, block)
        if at is None:
            raise DataError(f"The place of “{placed.example}” is gone (intent {placed.intent} has no examples in "
                            f"{relative} any more), so this edit cannot be undone; add the example again.",
                            path=relative)
        if at == len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines.insert(at, placed.text + "\n")
        self._replace_checked(path, "".join(lines), {placed.intent: [placed.example]})
        return Line(relative, at + 1, placed.intent, placed.example, placed.text)

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


def _item(text: str) -> str:
    """The example as an item of a ``- example`` list holds it (annotations and quotes kept)."""
    return text.strip()[1:].strip()


def _position(lines: list[str], placed: Line, block: list[int]) -> int | None:
    """Where a deleted line goes back (0-based): between the same neighbours, else after the same line above,
    else before the same line below — next to its intent's examples (``block``, their 0-based lines) when it has
    some, the nearest to where it was; else after the intent's last example."""
    text = [x.rstrip("\r\n") for x in lines]
    places = sorted({i for j in block for i in (j, j + 1)}) or list(range(len(text) + 1))

    def above(i: int) -> bool:
        return text[i - 1] == placed.above if i > 0 else placed.above is None

    def below(i: int) -> bool:
        return text[i] == placed.below if i < len(text) else placed.below is None

    for fits in (lambda i: above(i) and below(i), above, below):
        hits = [i for i in places if fits(i)]
        if hits:
            return min(hits, key=lambda i: abs(i - (placed.line - 1)))
    return max(block) + 1 if block else None


def _file_problems(path: Path) -> int:
    problems: list[Problem] = []
    read_file(path, TrainingData(), problems)
    return len(problems)


def _write(path: Path, text: str) -> None:
    """Replace a file atomically (a reader never sees half of it)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}-{threading.get_ident()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["MAX_EXAMPLE", "Edit", "IntentsEditor", "IntentsView", "clean_example", "read_view"]
