"""Reading one Rasa 3.x training-data or domain file (YAML) with the line of everything read.

Reads ``nlu:`` items (``intent`` + ``examples`` with inline entity annotations,
``synonym``, ``regex``, ``lookup``) and the declared ``entities`` of domain
files; every problem is reported with its file and line instead of stopping at
the first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.problems import Problem
from intents.annotations import parse_annotations
from intents.examples import Example, Pattern, TrainingData

# Top-level keys of Rasa 3 training-data and domain files. Only ``nlu`` and
# ``entities`` matter here; the rest belongs to Rasa Core and is ignored.
TOP_LEVEL_KEYS = {
    "version", "nlu", "entities", "intents", "rules", "stories", "responses", "slots",
    "actions", "forms", "session_config", "e2e_actions", "config", "test_stories",
}
ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
ITEM_KEYS = set(ITEM_KINDS) | {"examples", "metadata"}
EXAMPLE_KEYS = {"text", "metadata"}


def read_file(path: Path, data: TrainingData, problems: list[Problem]) -> None:
    """Read one file into ``data``, appending its problems to ``problems``."""
    _Reader(path, data, problems).read()


class _Reader:
    """Reads one file into ``data``, appending problems instead of stopping at the first."""

    def __init__(self, path: Path, data: TrainingData, problems: list[Problem]) -> None:
        self.path = path
        self.name = str(path)
        self.data = data
        self.problems = problems

    def problem(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.name, line, message))

    def read(self) -> None:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self.problem(None, "file does not exist")
        except UnicodeDecodeError:
            return self.problem(None, "file is not UTF-8 text")
        except OSError as exc:
            return self.problem(None, f"cannot be read ({exc.strerror})")
        try:
            doc = YAML(typ="rt").load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            return self.problem(line, f"malformed YAML: {exc.problem or exc.context}")
        except YAMLError as exc:
            return self.problem(None, f"malformed YAML: {exc}")
        if doc is None:
            return
        if not isinstance(doc, dict):
            return self.problem(1, "expected a mapping with a 'nlu:' list (Rasa 3 training data)")
        for key in doc:
            if key not in TOP_LEVEL_KEYS:
                self.problem(_key_line(doc, key), (
                    f"unknown key '{key}' (expected one of: nlu, entities, version, …)"))
        entities = doc.get("entities")
        if entities is not None:
            self._read_entities(doc, entities)
        nlu = doc.get("nlu")
        if nlu is None:
            return
        if not isinstance(nlu, list):
            return self.problem(_key_line(doc, "nlu"), "'nlu' must be a list of items")
        for index, item in enumerate(nlu):
            self._read_item(nlu, index, item)

    def _read_entities(self, doc: Any, entities: Any) -> None:
        if not isinstance(entities, list):
            return self.problem(_key_line(doc, "entities"), "'entities' must be a list")
        for item in entities:
            if isinstance(item, str):
                self.data.declared_entities.add(item)
            elif isinstance(item, dict) and len(item) == 1:  # "- name: {roles: [...]}"
                self.data.declared_entities.add(str(next(iter(item))))
            else:
                self.problem(_key_line(doc, "entities"), f"invalid entity declaration {item!r}")

    def _read_item(self, nlu: Any, index: int, item: Any) -> None:
        line = _item_line(nlu, index)
        if not isinstance(item, dict):
            return self.problem(line, "each 'nlu' item must be a mapping such as 'intent: …' + 'examples: |'")
        for key in item:
            if key not in ITEM_KEYS:
                self.problem(_key_line(item, key) or line, (
                    f"unknown key '{key}' (expected intent/synonym/regex/lookup with examples)"))
        kinds = [k for k in ITEM_KINDS if k in item]
        if len(kinds) != 1:
            return self.problem(line, "each 'nlu' item needs exactly one of: intent, synonym, regex, lookup")
        kind = kinds[0]
        name = item[kind]
        if not isinstance(name, str) or not name.strip():
            return self.problem(line, f"'{kind}' needs a name")
        name = name.strip()
        if "examples" not in item:
            return self.problem(line, f"{kind} '{name}' has no 'examples'")
        lines = self._examples(item)
        for text, ex_line in lines:
            if kind == "intent":
                self._add_example(name, text, ex_line)
            elif kind == "synonym":
                self.data.synonyms[text.lower()] = name
            elif kind == "regex":
                try:
                    re.compile(text)
                except re.error as exc:
                    self.problem(ex_line, f"regex '{name}': the pattern {text!r} does not compile ({exc})")
                    continue
                self.data.regexes.append(Pattern(name, text, self.name, ex_line))
            else:
                entries = self.data.lookups.setdefault(name, [])
                if text not in entries:
                    entries.append(text)

    def _examples(self, item: Any) -> list[tuple[str, int | None]]:
        """The example strings of an item with their 1-based line numbers."""
        raw = item["examples"]
        base = _value_line(item, "examples")
        out: list[tuple[str, int | None]] = []
        if isinstance(raw, str):
            block = getattr(raw, "style", None) in ("|", ">") or type(raw).__name__.endswith("ScalarString")
            first = (base + 1) if (base is not None and block) else base
            for offset, text_line in enumerate(raw.split("\n")):
                line = first + offset if first is not None else None
                stripped = text_line.strip()
                if not stripped:
                    continue
                if not stripped.startswith("-"):
                    self.problem(line, f"examples must be lines starting with '- ', got {stripped!r}")
                    continue
                text = stripped[1:].strip()
                if not text:
                    self.problem(line, "empty example")
                    continue
                out.append((_unquote(text), line))
        elif isinstance(raw, list):
            for index, entry in enumerate(raw):
                line = _item_line(raw, index) or base
                if isinstance(entry, dict):
                    for key in entry:
                        if key not in EXAMPLE_KEYS:
                            self.problem(_key_line(entry, key) or line, f"unknown key '{key}' in an example")
                    value = entry.get("text")
                else:
                    value = entry
                if not isinstance(value, str) or not value.strip():
                    self.problem(line, "each example needs a non-empty 'text'")
                    continue
                out.append((value.strip(), line))
        else:
            self.problem(base, "'examples' must be a block of '- example' lines or a list")
        return out

    def _add_example(self, intent: str, raw: str, line: int | None) -> None:
        try:
            text, entities = parse_annotations(raw)
        except ValueError as exc:
            return self.problem(line, str(exc))
        text = text.strip()
        if not text:
            return self.problem(line, "empty example")
        for ent in entities:
            if ent.value != ent.text:  # Rasa: an annotated value is a synonym of its text
                self.data.synonyms.setdefault(ent.text.lower(), ent.value)
        self.data.examples.append(Example(text=text, intent=intent, entities=entities,
                                          path=self.name, line=line))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _key_line(mapping: Any, key: Any) -> int | None:
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except Exception:
        return None


def _value_line(mapping: Any, key: Any) -> int | None:
    try:
        return int(mapping.lc.value(key)[0]) + 1
    except Exception:
        return None


def _item_line(seq: Any, index: int) -> int | None:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except Exception:
        return None
