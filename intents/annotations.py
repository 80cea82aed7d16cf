"""Rasa inline entity annotations in examples: ``[text](entity)``, ``[text](entity:value)``, ``[text]{json}``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# [text](entity), [text](entity:value), [text]{"entity": "...", "value": "..."}
ANNOTATION = re.compile(
    r"\[(?P<text>[^\]\[]+?)\]"
    r"(?:\((?P<entity>[^:)\s]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]*\}))"
)


@dataclass
class AnnotatedEntity:
    """One entity annotated in an example, with offsets into the example's plain text."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    role: str | None = None
    group: str | None = None


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
