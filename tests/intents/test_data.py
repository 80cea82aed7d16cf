"""Rasa 3.x training data: real files load unchanged; every problem names its file and line."""

from __future__ import annotations

import pytest

from intents.data import TrainingDataError, load_training_data
from tests.intents.conftest import DEFAULT_INTENTS, write

FIXED_INTENTS = {"greet", "goodbye", "thanks", "bot_capabilities", "affirm", "deny", "out_of_scope",
                 "password_reset", "account_unlock", "ticket_status", "my_tickets", "open_ticket",
                 "talk_to_human", "vpn_issue", "wifi_issue", "email_on_phone", "mfa_device",
                 "software_request", "hardware_problem", "printer_issue", "access_request",
                 "laptop_request", "phishing_report"}

# A file as a Rasa 3 team writes it (rasa init's nlu.yml style, with every feature).
RASA_NLU = '''version: "3.1"
nlu:
- intent: check_balance
  examples: |
    - how much money is on my [credit card](account_type)?
    - what's my [savings]{"entity": "account_type", "value": "savings account"} balance
    - balance of my [checking](account_type:checking account) account
    - show my balance
    - what do I have left
- intent: transfer
  metadata:
    sentiment: neutral
  examples:
  - text: send 50 to [bob@example.com](email)
  - text: transfer money to my [savings](account_type)
    metadata: {source: chat}
  - text: move cash
  - text: wire funds please
  - text: pay my friend
- synonym: credit card
  examples: |
    - creditcard
    - cc
- regex: email
  examples: |
    - [\\w.+-]+@[\\w-]+\\.[\\w.]+
- lookup: account_type
  examples: |
    - credit card
    - savings
    - checking
'''
DOMAIN = '''version: "3.1"
intents:
  - check_balance
  - transfer
entities:
  - account_type
  - email
responses:
  utter_greet:
  - text: "Hey!"
'''


def test_default_intent_set_is_complete_and_rich():
    data = load_training_data(DEFAULT_INTENTS)
    counts = data.counts()
    assert len(counts) >= 20
    assert FIXED_INTENTS <= set(counts)
    assert min(counts.values()) >= 20, counts
    assert {p.name for p in data.regexes} >= {"ticket_key", "email"}
    assert {"system", "device", "urgency"} <= set(data.lookups)
    assert data.synonyms["globalprotect"] == "vpn" and data.synonyms["asap"] == "high"
    assert any(e.entities for e in data.examples)


def test_real_rasa_files_load_with_annotations_synonyms_regex_and_lookup(tmp_path):
    write(tmp_path / "nlu.yml", RASA_NLU)
    write(tmp_path / "domain.yml", DOMAIN)
    data = load_training_data(tmp_path)
    assert data.counts() == {"check_balance": 5, "transfer": 5}
    by_text = {e.text: e for e in data.examples}
    ex = by_text["how much money is on my credit card?"]
    (ent,) = ex.entities
    assert (ent.entity, ent.value, ex.text[ent.start:ent.end]) == ("account_type", "credit card", "credit card")
    ex = by_text["what's my savings balance"]
    assert ex.entities[0].value == "savings account" and ex.text[ex.entities[0].start:ex.entities[0].end] == "savings"
    assert by_text["balance of my checking account"].entities[0].value == "checking account"
    assert by_text["send 50 to bob@example.com"].entities[0].entity == "email"
    # synonyms: explicit ones and the ones implied by annotated values
    assert data.synonyms["cc"] == "credit card" and data.synonyms["savings"] == "savings account"
    assert data.regexes[0].name == "email"
    assert data.lookups["account_type"] == ["credit card", "savings", "checking"]
    assert data.declared_entities == {"account_type", "email"}
    assert data.examples[0].line == 5  # first example's own line


def _problems(tmp_path, text, *, name="nlu.yml", min_examples=5):
    write(tmp_path / name, text)
    with pytest.raises(TrainingDataError) as info:
        load_training_data(tmp_path, min_examples=min_examples)
    return info.value


def _intent(name, examples, indent="    "):
    return f"- intent: {name}\n  examples: |\n" + "".join(f"{indent}- {e}\n" for e in examples)


GOOD_A = ["hello", "hi", "hey", "good morning", "hiya"]
GOOD_B = ["bye", "goodbye", "see you", "later", "cya"]


def test_malformed_yaml_names_file_and_line(tmp_path):
    err = _problems(tmp_path, 'version: "3.1"\nnlu:\n- intent: greet\n  examples: [unclosed\n')
    assert "nlu.yml:" in err.user_message and "malformed YAML" in err.user_message
    assert err.problems[0].line is not None and err.problems[0].line >= 4


def test_unknown_keys_are_reported_with_lines(tmp_path):
    text = ('version: "3.1"\nnlu:\n' + _intent("greet", GOOD_A) + "  exmaples: oops\n" + _intent("bye", GOOD_B)
            + "intent_list: []\n")
    err = _problems(tmp_path, text)
    messages = {p.line: p.message for p in err.problems}
    assert "unknown key 'exmaples'" in messages[10]
    assert "unknown key 'intent_list'" in messages[18]


def test_example_under_two_intents(tmp_path):
    text = 'nlu:\n' + _intent("greet", GOOD_A) + _intent("bye", GOOD_B + ["Hello"])
    err = _problems(tmp_path, text)
    (p,) = err.problems
    assert p.line == 16 and "'Hello'" in p.message and "'greet'" in p.message and "nlu.yml:4" in p.message


def test_intent_with_too_few_examples(tmp_path):
    err = _problems(tmp_path, 'nlu:\n' + _intent("greet", GOOD_A) + _intent("bye", GOOD_B[:2]))
    (p,) = err.problems
    assert p.line == 11 and "intent 'bye' has 2 example(s); at least 5" in p.message
    assert str(p).startswith(str(tmp_path / "nlu.yml") + ":11:")


def test_entity_used_but_never_defined(tmp_path):
    err = _problems(tmp_path, 'nlu:\n' + _intent("greet", GOOD_A[:4] + ["hi from [Paris](city)"])
                    + _intent("bye", GOOD_B))
    (p,) = err.problems
    assert p.line == 8 and "entity 'city' is used but never defined" in p.message


def test_regex_that_does_not_compile(tmp_path):
    text = ('nlu:\n' + _intent("greet", GOOD_A) + _intent("bye", GOOD_B)
            + "- regex: ticket\n  examples: |\n    - IT-(\\d+\n")
    err = _problems(tmp_path, text)
    (p,) = err.problems
    assert p.line == 18 and "does not compile" in p.message


def test_malformed_annotation_and_non_list_examples(tmp_path):
    text = ('nlu:\n' + _intent("greet", GOOD_A[:4] + ['hi [x]{"entity": oops}']) + _intent("bye", GOOD_B)
            + "- intent: other\n  examples: |\n    just text without a dash\n")
    err = _problems(tmp_path, text)
    lines = {p.line: p.message for p in err.problems}
    assert "not valid JSON" in lines[8]
    assert "starting with '- '" in lines[18]


def test_every_problem_is_listed_at_once(tmp_path):
    write(tmp_path / "a.yml", 'nlu:\n' + _intent("greet", GOOD_A) + _intent("bye", GOOD_B[:1]))
    write(tmp_path / "b.yml", "nlu: [\n")
    with pytest.raises(TrainingDataError) as info:
        load_training_data(tmp_path)
    assert {p.path.rsplit("/", 1)[-1] for p in info.value.problems} == {"a.yml", "b.yml"}
    assert "2 problem(s)" in info.value.user_message
