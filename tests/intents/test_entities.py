"""Entities: regex, lookup tables and synonyms, with Rasa's character offsets."""

from __future__ import annotations

import pytest

from intents.data import load_training_data
from intents.entities import EntityConfig, EntityExtractor
from tests.intents.conftest import DEFAULT_INTENTS


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(EntityConfig.from_training_data(load_training_data(DEFAULT_INTENTS)))


def found(extractor, text):
    return [(e.entity, e.value, text[e.start:e.end]) for e in extractor.extract(text)]


def test_ticket_keys_and_emails_with_offsets(extractor):
    text = "status of IT-4521 and help-7? cc jane.doe@example.com"
    ents = extractor.extract(text)
    assert [(e.entity, e.start, e.end, e.value) for e in ents] == [
        ("ticket_key", 10, 17, "IT-4521"),
        ("ticket_key", 22, 28, "help-7"),
        ("email", 33, 53, "jane.doe@example.com"),
    ]
    assert all(e.extractor == "RegexEntityExtractor" for e in ents)


def test_lookup_and_synonyms_map_values_but_keep_offsets(extractor):
    text = "My GlobalProtect keeps dropping on the Wi-Fi, need a fix ASAP"
    assert found(extractor, text) == [
        ("system", "vpn", "GlobalProtect"),
        ("system", "wifi", "Wi-Fi"),
        ("urgency", "high", "ASAP"),
    ]
    mapped = extractor.extract(text)[0].to_rasa()
    assert mapped["processors"] == ["EntitySynonymMapper"]
    assert mapped == {"entity": "system", "start": 3, "end": 16, "value": "vpn",
                      "extractor": "RegexEntityExtractor", "processors": ["EntitySynonymMapper"]}


def test_lookup_matches_whole_words_only(extractor):
    # "ad" (Active Directory) must not match inside "add" or "bad"; "mac" not inside "machine".
    assert found(extractor, "please add the bad machine") == []
    assert found(extractor, "reset my AD password") == [("system", "active directory", "AD")]


def test_longest_overlapping_match_wins(extractor):
    # "google drive" beats "google"-less partials; a docking station is one device, not "dock".
    assert found(extractor, "my docking station and google drive") == [
        ("device", "docking station", "docking station"), ("system", "google drive", "google drive")]


def test_annotated_examples_extend_lookups():
    from intents.data import AnnotatedEntity, Example, TrainingData

    data = TrainingData(examples=[Example("open ticket about my monitor", "open_ticket",
                                          [AnnotatedEntity("device", "monitor", 21, 28, "monitor")])],
                        lookups={"device": ["laptop"]})
    extractor = EntityExtractor(EntityConfig.from_training_data(data))
    assert found(extractor, "the Monitor flickers") == [("device", "Monitor", "Monitor")]
