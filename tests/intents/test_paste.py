"""Long pastes: entities once each, and a summary that keeps the person's words and the telling log lines."""

from __future__ import annotations

from intents.data import load_training_data
from intents.entities import EntityConfig, EntityExtractor
from intents.paste import summarise
from tests.intents.conftest import DEFAULT_INTENTS

LOG_LINE = "2026-11-30 09:14:{s:02d} WARN gp-client host=vpn.example.com retry for IT-42 (user a.lee@example.com)\n"


def _paste() -> str:
    return ("The VPN keeps dropping since this morning, can you help?\n"
            + "".join(LOG_LINE.format(s=s) for s in range(19))
            + "2026-11-30 09:15:02 ERROR gp-client tunnel failed: certificate expired\n"
            + "".join(LOG_LINE.format(s=s) for s in range(19, 40)))


def test_an_entity_repeated_in_a_log_paste_is_listed_once():
    extractor = EntityExtractor(EntityConfig.from_training_data(load_training_data(DEFAULT_INTENTS)))
    found = [(e.entity, e.value) for e in extractor.extract(_paste())]
    assert found.count(("ticket_key", "IT-42")) == 1
    assert len(found) == len(set(found))
    first = next(e for e in extractor.extract(_paste()) if e.entity == "ticket_key")
    assert _paste()[first.start:first.end] == "IT-42" and first.start == _paste().index("IT-42")


def test_a_long_paste_is_summarised_to_the_question_and_the_error():
    paste = _paste()
    assert len(paste) > 3000
    summary = summarise(paste)
    assert len(summary) <= 600
    assert summary.startswith("The VPN keeps dropping since this morning, can you help?")
    assert "tunnel failed: certificate expired" in summary
    assert summary.count("WARN") == 0
    assert summarise("my laptop will not start") == "my laptop will not start"
