"""Entity extraction: regular expressions, lookup tables and synonyms, as Rasa does it.

Offsets are character positions in the original message (``text[start:end]``
is the matched text), the way Rasa's ``RegexEntityExtractor`` reports them;
a synonym replaces the value and adds ``EntitySynonymMapper`` to the entity's
processors. Values annotated in training examples extend the lookup tables, so
an annotated ``[VPN](system)`` is found in new messages too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from intents.api import Entity

if TYPE_CHECKING:
    from intents.examples import TrainingData

EXTRACTOR = "RegexEntityExtractor"
SYNONYM_PROCESSOR = "EntitySynonymMapper"


@dataclass
class EntityConfig:
    """What the extractor knows; stored in the model's JSON."""

    regexes: dict[str, list[str]] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    case_sensitive: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"regexes": self.regexes, "lookups": self.lookups, "synonyms": self.synonyms,
                "case_sensitive": self.case_sensitive}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EntityConfig:
        return cls(regexes={k: list(v) for k, v in data.get("regexes", {}).items()},
                   lookups={k: list(v) for k, v in data.get("lookups", {}).items()},
                   synonyms=dict(data.get("synonyms", {})),
                   case_sensitive=bool(data.get("case_sensitive", False)))

    @classmethod
    def from_training_data(cls, data: TrainingData) -> EntityConfig:
        """Build from :class:`intents.data.TrainingData` (regex, lookup, synonyms, annotations)."""
        regexes: dict[str, list[str]] = {}
        for p in data.regexes:
            regexes.setdefault(p.name, []).append(p.pattern)
        lookups = {name: list(entries) for name, entries in data.lookups.items()}
        regex_names = set(regexes)
        for ex in data.examples:
            for ent in ex.entities:
                if ent.entity in regex_names:
                    continue  # a regex entity's annotations are instances of the pattern
                entries = lookups.setdefault(ent.entity, [])
                if ent.text.lower() not in (e.lower() for e in entries):
                    entries.append(ent.text)
        return cls(regexes=regexes, lookups=lookups, synonyms=dict(data.synonyms))


class EntityExtractor:
    """Finds entities in a message; overlapping matches keep the longest."""

    def __init__(self, config: EntityConfig) -> None:
        self.config = config
        flags = 0 if config.case_sensitive else re.IGNORECASE
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for name, patterns in config.regexes.items():
            for pattern in patterns:
                self._patterns.append((name, re.compile(pattern, flags)))
        for name, entries in config.lookups.items():
            if not entries:
                continue
            alternatives = "|".join(re.escape(e) for e in sorted(set(entries), key=len, reverse=True))
            # Word boundaries that also work for entries starting/ending with punctuation.
            self._patterns.append((name, re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", flags)))
        self._synonyms = {k.lower(): v for k, v in config.synonyms.items()}

    def extract(self, text: str) -> list[Entity]:
        """Entities in ``text`` (longest match wins an overlap); each (entity, value) once, at its first place."""
        found: list[Entity] = []
        for name, pattern in self._patterns:
            for m in pattern.finditer(text):
                if m.end() == m.start():
                    continue
                found.append(Entity(entity=name, value=m.group(0), start=m.start(), end=m.end(),
                                    extractor=EXTRACTOR, text=m.group(0)))
        found.sort(key=lambda e: (-(e.end - e.start), e.start))
        kept: list[Entity] = []
        for ent in found:
            if any(ent.start < k.end and k.start < ent.end for k in kept):
                continue
            kept.append(ent)
        kept.sort(key=lambda e: e.start)
        for ent in kept:
            mapped = self._synonyms.get(str(ent.value).lower())
            if mapped is not None and mapped != ent.value:
                ent.value = mapped
                ent.processors = [SYNONYM_PROCESSOR]
        return _first_of_each(kept)


def _first_of_each(entities: list[Entity]) -> list[Entity]:
    """Drop repeats: a pasted log naming the same host 19 times yields it once (its first occurrence)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for ent in entities:
        key = (ent.entity, str(ent.value).lower())
        if key not in seen:
            seen.add(key)
            out.append(ent)
    return out
