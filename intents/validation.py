"""Cross-file checks of NLU training data: duplicates across intents, too few examples, undefined entities."""

from __future__ import annotations

from bot.problems import Problem
from intents.examples import Example, TrainingData

MIN_EXAMPLES = 5


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
