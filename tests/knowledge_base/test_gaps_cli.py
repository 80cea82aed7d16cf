"""`helpdesk kb gaps` and `kb curate add --gap` through the real CLI: the same topic list as the console's inbox
(topics dealt with hidden unless --all), and a curated link for only the picked questions of a topic."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.knowledge_base.test_cli import cli  # noqa: F401 - the CLI fixture

pytestmark = pytest.mark.slow  # loads the sentence encoder

PARKING = ["how do I book a parking space", "where can I park my car at the office", "is there parking for employees"]
CARDS = ["how do I order business cards", "can I get new business cards printed"]


def _declined(sqlite_url: str) -> dict[str, dt.datetime]:
    """The engine's declined turns, one person each; returns when each question was asked."""
    from bot.storage.base import utcnow
    from bot.storage.models import AnalyticsEvent
    from bot.storage.session import Database

    now, asked = utcnow().replace(microsecond=0), {}
    db = Database(sqlite_url)
    with db.session() as s:
        for n, text in enumerate(PARKING + CARDS):
            asked[text] = now - dt.timedelta(hours=n + 1)
            s.add(AnalyticsEvent(turn_id=f"t{n}", user_key=f"slack:U{n}", channel="slack", question=text,
                                 outcome="declined", created_at=asked[text]))
    db.dispose()
    return asked


def _gaps(cli, *args: str) -> dict:  # noqa: F811
    result = cli("kb", "gaps", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_curating_the_picked_questions_of_a_topic_and_hiding_what_was_dealt_with(cli, articles,  # noqa: F811
                                                                                   sqlite_url):
    from bot.storage.session import Database
    from knowledge_base import gap_actions as ga
    from knowledge_base.gaps import Gap, GapQuestion

    assert cli("kb", "import", str(articles)).exit_code == 0
    asked = _declined(sqlite_url)
    first = _gaps(cli)
    assert [(g["number"], g["count"], g["state"]) for g in first["gaps"]] == [(1, 3, "open"), (2, 2, "open")]
    assert {"topic", "count", "declined", "unhelpful", "newest", "examples", "nearest_article"} <= set(first["gaps"][0])
    assert first["gaps"][0]["questions"] == PARKING  # newest first: the numbers --only/--except take
    listing = cli("kb", "gaps", "--topic", "1")
    assert all(f"{i}. “{q}”" in listing.output for i, q in enumerate(PARKING, 1)), listing.output

    wrong = cli("kb", "curate", "add", "--gap", "1", "--except", "4", "--article", "network/vpn")
    assert wrong.exit_code == 1 and "no question 4; its questions are numbered 1 to 3" in wrong.output
    added = cli("kb", "curate", "add", "--gap", "1", "--except", "2", "--article", "network/vpn", "--by", "ana",
                "--json")
    assert added.exit_code == 0, added.output
    done = json.loads(added.output)
    assert done["questions"] == [PARKING[0], PARKING[2]] and len(done["ids"]) == 2 and done["action_id"]

    after = _gaps(cli)  # the unticked question stays to deal with, with what was done about the others
    (parking, cards) = after["gaps"]
    assert parking["new_questions"] == 1 and parking["number"] == 1 and parking["state"] == "open"
    assert [e["what"] for e in parking["earlier"]] == ["answered with article network/vpn (2 of 3 questions)"]

    # a trainer dismisses the cards topic in the console: the CLI no longer lists it, --all does, with its state
    db = Database(sqlite_url)
    with db.session() as s:
        ga.dismiss(s, Gap(CARDS[0], [GapQuestion(q, "declined", asked[q]) for q in CARDS]),
                   reason="Office management, not IT", created_by="trainer@example.com")
    db.dispose()
    hidden = _gaps(cli)
    assert [g["topic"] for g in hidden["gaps"]] == [parking["topic"]] and hidden["hidden"] == 1
    text = cli("kb", "gaps").output
    assert "business cards" not in text and "1 topic(s) already dealt with are hidden" in text
    every = _gaps(cli, "--all")
    assert [(g["number"], g["state"]) for g in every["gaps"]] == [(1, "open"), (None, "dismissed")]
    assert "dismissed: Office management, not IT" in cli("kb", "gaps", "--all").output

    undone = cli("kb", "curate", "undo", "--action", str(done["action_id"]), "--by", "bo")
    assert undone.exit_code == 0, undone.output
    back = _gaps(cli)["gaps"][0]
    assert back["new_questions"] == 3 and back["earlier"] == []
    assert json.loads(cli("kb", "curate", "list", "--json").output) == []
