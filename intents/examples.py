"""What the NLU model is trained from: examples, patterns, lookups and synonyms (read by ``intents.yaml_reader``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from intents.annotations import AnnotatedEntity


@dataclass
class Example:
    """One training example (plain text) of an intent, where it was read."""

    text: str
    intent: str
    entities: list[AnnotatedEntity] = field(default_factory=list)
    path: str = ""
    line: int | None = None


@dataclass
class Pattern:
    """A named regular expression (an entity extractor)."""

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

