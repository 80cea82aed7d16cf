"""What trainers did about a gaps topic, on SQLite and PostgreSQL (no encoder, no server): a dismissal sticks until
the topic grows materially, a curated link covers only the ticked questions, and one list shows every topic with
where it stands."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import DataError
from knowledge_base import gap_actions as ga
from knowledge_base.curated import list_curated
from knowledge_base.gaps import Gap, GapQuestion

TRAINER, LEAD = "trainer@example.com", "lead@example.com"
T0 = dt.datetime(2026, 12, 1, 9, 0)
COFFEE = [GapQuestion("is the coffee machine broken", "declined", T0, asker="slack:U1"),
          GapQuestion("coffee machine leaking", "unhelpful", T0 + dt.timedelta(minutes=5), "help/printing", "slack:U2")]
SOURCE = "https://intranet.example.com/facilities"


def joined(*askers: str, start: int = 1) -> list[GapQuestion]:
    """New paraphrases, one per asker, a day apart."""
    return [GapQuestion(f"coffee machine error E{start + i}", "declined", T0 + dt.timedelta(days=start + i), asker=a)
            for i, a in enumerate(askers)]


def topic(questions: list[GapQuestion]) -> Gap:
    return Gap(label=COFFEE[0].text, questions=list(questions))


def test_a_dismissed_topic_stays_hidden_until_it_grows_materially(migrated_db) -> None:
    first = topic(COFFEE)
    with migrated_db.session() as s:
        assert [t.key for t in ga.topics(s, [first])] == [ga.topic_key(first)]
        with pytest.raises(DataError, match="the reason field"):
            ga.dismiss(s, first, reason=" \n ", created_by=TRAINER)
        row = ga.dismiss(s, first, reason="Facilities,\n not IT", created_by=TRAINER)
        assert ga.describe(row) == "dismissed: Facilities, not IT" and row.details == {"reason": "Facilities, not IT"}
        assert ga.topics(s, [first]) == []
        action_id = row.id
    # one paraphrase used to bring it back; the same person asking three times, or two people twice, do not
    for still_hidden in (joined("slack:U3"), joined("slack:U3", "slack:U3", "slack:U3"),
                         joined("slack:U3", "slack:U4")):
        grown = topic([*COFFEE, *still_hidden])
        with migrated_db.session() as s:
            assert ga.topics(s, [grown]) == [], still_hidden
            (listed,) = ga.topics(s, [grown], include_handled=True)
            assert listed.state == "dismissed" and listed.handled
    grown = topic([*COFFEE, *joined("slack:U3", "slack:U4", "slack:U3")])  # three new questions, two people
    with migrated_db.session() as s:
        (back,) = ga.topics(s, [grown])
        assert back.state == ga.OPEN and back.new_questions == 3 and back.new_people == 2
        assert back.dismissed_before is not None and back.dismissed_before.id == action_id
        note = ga.dismissal_note(back.dismissed_before)
        assert note.startswith("dismissed before: “Facilities, not IT” by trainer@example.com, 20") and "UTC" in note
        with pytest.raises(DataError, match="changed since the page was shown"):
            ga.find_topic([grown], ga.topic_key(first))
        undone = ga.undo_action(s, action_id, undone_by=LEAD)
        assert undone.undone_by == LEAD and undone.created_by == TRAINER
    with migrated_db.session() as s:
        (again,) = ga.topics(s, [first])  # undone: back as if nothing was done
        assert again.earlier == [] and again.new_questions == 2 and again.dismissed_before is None
        with pytest.raises(DataError, match="undone already"):
            ga.undo_action(s, action_id, undone_by=TRAINER)
        (logged,) = ga.recent_actions(s)
        assert (logged.kind, logged.label, logged.undone_by) == ("dismiss", "is the coffee machine broken", LEAD)


def test_unknown_askers_each_count_as_a_person() -> None:
    anonymous = [GapQuestion(f"q{i}", "declined", T0) for i in range(3)]
    assert ga.people(anonymous) == 3 and ga.has_grown(anonymous)
    assert not ga.has_grown(anonymous[:2])
    assert ga.people(joined("slack:U1", "slack:U1") + anonymous[:1]) == 2


def test_a_returned_topic_keeps_its_dismissal_history_after_part_of_it_is_curated(migrated_db) -> None:
    """Curating only some of a returned topic's questions leaves the rest in the inbox (it does not re-hide)."""
    with migrated_db.session() as s:
        ga.dismiss(s, topic(COFFEE), reason="Facilities", created_by=TRAINER)
    new = joined("slack:U3", "slack:U4", "slack:U5")
    grown = topic([*COFFEE, *new])
    with migrated_db.session() as s:
        ga.curate(s, grown, answer="Call facilities on 4444.", source=SOURCE, created_by=TRAINER,
                  questions=[new[0].text, new[1].text])
    with migrated_db.session() as s:
        (left,) = ga.topics(s, [grown])
        assert [q.text for q in left.pending] == [new[2].text] and left.dismissed_before is not None


def test_curating_only_the_ticked_questions_and_undo_restores_exactly_that(migrated_db) -> None:
    stray = GapQuestion("the coffee budget for the team offsite", "declined", T0 + dt.timedelta(hours=1),
                        asker="slack:U9")
    mixed = topic([*COFFEE, stray])
    assert ga.unique_questions(mixed) == [stray.text, COFFEE[1].text, COFFEE[0].text]  # newest first, numbered 1..
    assert ga.numbered(mixed, leave_out=[1]) == [COFFEE[1].text, COFFEE[0].text]
    assert ga.numbered(mixed, only=[3, 1]) == [stray.text, COFFEE[0].text]
    with pytest.raises(DataError, match="no question 4; its questions are numbered 1 to 3"):
        ga.numbered(mixed, only=[4])
    with pytest.raises(DataError, match="not both"):
        ga.numbered(mixed, only=[1], leave_out=[2])
    with migrated_db.session() as s:
        with pytest.raises(DataError, match="not one of this topic's questions"):
            ga.curate(s, mixed, answer="x", source=SOURCE, created_by=TRAINER, questions=["how do I print"])
        with pytest.raises(DataError, match="at least one"):
            ga.curate(s, mixed, answer="x", source=SOURCE, created_by=TRAINER, questions=[])
        row = ga.curate(s, mixed, answer="Call facilities on 4444.", source=SOURCE, created_by=TRAINER,
                        questions=ga.numbered(mixed, leave_out=[1]))
        assert ga.describe(row) == "answered with an approved answer (2 of 3 questions)"
        assert {c["question"] for c in list_curated(s)} == {COFFEE[0].text, COFFEE[1].text}
        action_id = row.id
    with migrated_db.session() as s:
        (left,) = ga.topics(s, [mixed])  # the unticked question is still to deal with
        assert [q.text for q in left.pending] == [stray.text] and [a.id for a in left.earlier] == [action_id]
        ga.undo_action(s, action_id, undone_by=LEAD)
    with migrated_db.session() as s:
        assert list_curated(s) == [] and len(list_curated(s, include_undone=True)) == 2
        (whole,) = ga.topics(s, [mixed])
        assert whole.new_questions == 3 and whole.earlier == []


def test_one_list_hides_handled_topics_unless_asked_and_says_what_was_done(migrated_db) -> None:
    coffee, parking = topic(COFFEE), Gap("where do I park", [GapQuestion("where do I park", "declined", T0)])
    cards = Gap("business cards", [GapQuestion("business cards", "declined", T0)])
    with migrated_db.session() as s:
        ga.curate(s, coffee, answer="Call facilities on 4444.", source=SOURCE, created_by=TRAINER)
        ga.record_action(s, cards, kind=ga.ARTICLE, created_by=TRAINER)
    with migrated_db.session() as s:
        assert [t.gap.label for t in ga.topics(s, [coffee, parking, cards])] == ["where do I park"]
        every = ga.topics(s, [coffee, parking, cards], include_handled=True)
        assert [(t.gap.label, t.state) for t in every] == [(coffee.label, "curated"), ("where do I park", "open"),
                                                           ("business cards", "article")]
