"""Rasa 3.x NLU training data: load ``*.yml`` files unchanged and validate them.

Reads ``nlu:`` items (``intent`` + ``examples`` with inline entity annotations,
``synonym``, ``regex``, ``lookup``) and, from Rasa domain files, the declared
``entities``. Every problem is reported with its file and line; training
refuses data with problems (:class:`TrainingDataError` lists them all).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from bot.errors import DataError

MIN_EXAMPLES = 5

# Top-level keys of Rasa 3 training-data and domain files. Only ``nlu`` and
# ``entities`` matter here; the rest belongs to Rasa Core and is ignored.
TOP_LEVEL_KEYS = {
    "version", "nlu", "entities", "intents", "rules", "stories", "responses", "slots",
    "actions", "forms", "session_config", "e2e_actions", "config", "test_stories",
}
ITEM_KINDS = ("intent", "synonym", "regex", "lookup")
ITEM_KEYS = set(ITEM_KINDS) | {"examples", "metadata"}
EXAMPLE_KEYS = {"text", "metadata"}

# [text](entity), [text](entity:value), [text]{"entity": "...", "value": "..."}
ANNOTATION = re.compile(
    r"\[(?P<text>[^\]\[]+?)\]"
    r"(?:\((?P<entity>[^:)\s]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]*\}))"
)


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


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


@dataclass
class AnnotatedEntity:
    entity: str
    value: str
    start: int
    end: int
    text: str
    role: str | None = None
    group: str | None = None


@dataclass
class Example:
    text: str
    intent: str
    entities: list[AnnotatedEntity] = field(default_factory=list)
    path: str = ""
    line: int | None = None


@dataclass
class Pattern:
    name: str
    pattern: str
    path: str = ""
    line: int | None = None


@dataclass
class TrainingData:
    """Everything the NLU model is trained from."""

    examples: list[Example] = field(default_factory=list)
    regexes: list[Pattern] = field(default_factory=list)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface text (lower) -> value
    declared_entities: set[str] = field(default_factory=set)
    files: list[Path] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def intents(self) -> list[str]:
        return sorted({e.intent for e in self.examples})

    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    def labels(self) -> list[str]:
        return [e.intent for e in self.examples]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.examples:
            out[e.intent] = out.get(e.intent, 0) + 1
        return dict(sorted(out.items()))

    def entity_names(self) -> set[str]:
        return {p.name for p in self.regexes} | set(self.lookups) | self.declared_entities


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
        _Reader(path, data, problems).read()
    problems.extend(validate(data, min_examples=min_examples))
    if problems:
        raise TrainingDataError(problems)
    data.fingerprint = fingerprint_files(files)
    return data


def validate(data: TrainingData, *, min_examples: int = MIN_EXAMPLES) -> list[Problem]:
    """Cross-file checks: duplicates across intents, too few examples, undefined entities."""
    problems: list[Problem] = []
    seen: dict[str, Example] = {}
    unique: list[Example] = []
    for ex in data.examples:
        key = " ".join(ex.text.lower().split())
        other = seen.get(key)
        if other is None:
            seen[key] = ex
            unique.append(ex)
        elif other.intent != ex.intent:
            problems.append(Problem(ex.path, ex.line, (
                f"the example '{ex.text}' is listed under intent '{ex.intent}' and also under "
                f"'{other.intent}' ({other.path}:{other.line}); keep it under one intent")))
    data.examples = unique  # exact repeats within one intent are harmless: keep one
    first_line: dict[str, Example] = {}
    for ex in data.examples:
        first_line.setdefault(ex.intent, ex)
    for intent, count in data.counts().items():
        if count < min_examples:
            ex = first_line[intent]
            problems.append(Problem(ex.path, ex.line, (
                f"intent '{intent}' has {count} example(s); at least {min_examples} are needed")))
    if len(data.counts()) < 2 and data.examples:
        problems.append(Problem(data.examples[0].path, None, "at least two intents are needed to train"))
    defined = data.entity_names()
    reported: set[str] = set()
    for ex in data.examples:
        for ent in ex.entities:
            if ent.entity not in defined and ent.entity not in reported:
                reported.add(ent.entity)
                problems.append(Problem(ex.path, ex.line, (
                    f"entity '{ent.entity}' is used but never defined: declare it under "
                    f"'entities:' in a domain file, or add a regex or lookup named '{ent.entity}'")))
    return problems


def parse_annotations(raw: str) -> tuple[str, list[AnnotatedEntity]]:
    """Strip Rasa entity annotations from one example: (plain text, entities with offsets)."""
    out: list[str] = []
    entities: list[AnnotatedEntity] = []
    pos = 0
    length = 0
    for m in ANNOTATION.finditer(raw):
        out.append(raw[pos:m.start()])
        length += m.start() - pos
        text = m.group("text")
        role = group = None
        if m.group("json"):
            try:
                spec = json.loads(m.group("json"))
            except json.JSONDecodeError:
                raise ValueError(f"the entity annotation {m.group('json')} is not valid JSON") from None
            if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
                raise ValueError(f"the entity annotation {m.group('json')} needs an \"entity\" name")
            entity = spec["entity"]
            value = str(spec.get("value", text))
            role, group = spec.get("role"), spec.get("group")
        else:
            entity = m.group("entity")
            value = m.group("value") or text
        entities.append(AnnotatedEntity(entity=entity, value=value, start=length,
                                        end=length + len(text), text=text, role=role, group=group))
        out.append(text)
        length += len(text)
        pos = m.end()
    out.append(raw[pos:])
    plain = "".join(out)
    leftover = re.search(r"\[[^\]]*\]\s*[({]", plain)
    if leftover:
        raise ValueError(f"malformed entity annotation near '{leftover.group(0)}'")
    return plain, entities


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
                    text = entry.get("text")
                else:
                    text = entry
                if not isinstance(text, str) or not text.strip():
                    self.problem(line, "each example needs a non-empty 'text'")
                    continue
                out.append((text.strip(), line))
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
