"""Gap mining: declined and unhelpful questions grouped by topic, largest first, with the nearest article."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge_base.gaps import AnsweredQuestion, chart, find_gaps
from knowledge_base.ratings import record_rating

pytestmark = pytest.mark.slow  # loads the sentence encoder


def _declined(asked, text, when):
    asked.append(AnsweredQuestion(question=text, outcome="declined", at=when))


def test_questions_are_grouped_by_topic(kb, migrated_db, encoder, tmp_path):
    now = dt.datetime(2026, 11, 25, 12, 0)
    asked: list[AnsweredQuestion] = []
    for q in ["how do I book a parking space", "where can I park my car at the office",
              "is there parking for employees"]:
        _declined(asked, q, now - dt.timedelta(days=3 - len(asked)))
    for q in ["how do I order business cards", "can I get new business cards printed"]:
        _declined(asked, q, now)
    asked.append(AnsweredQuestion(question="how do I print", outcome="answered", at=now,
                                  top_article_id="help/printing", score=0.8))
    with migrated_db.session() as s:
        record_rating(s, question="the printer on floor 3 is out of toner", article_id="help/printing",
                      helpful=False, user_key="slack:U9")
    with migrated_db.session() as s:
        gaps = find_gaps(s, asked, lambda: encoder, kb=kb)
    sizes = [g.count for g in gaps]
    assert sizes == [3, 2, 1]
    assert all("park" in q.text for q in gaps[0].questions)
    assert all("business cards" in q.text for q in gaps[1].questions)
    d = gaps[2].to_dict()
    assert d["unhelpful"] == 1 and d["nearest_article"] == "help/printing"
    assert gaps[0].to_dict()["examples"][0] == "is there parking for employees"  # newest first
    png = chart(gaps, tmp_path / "gaps.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _gaps_with(labels):
    from knowledge_base.gaps import Gap, GapQuestion

    now = dt.datetime(2026, 11, 25, 12, 0)
    return [Gap(label, [GapQuestion(label, "declined", now)] * (len(labels) - i + 1)
                + [GapQuestion(label, "unhelpful", now)]) for i, label in enumerate(labels)]


def test_chart_title_fits_and_legend_stays_off_the_bars():
    """The title used to be clipped at the right edge and the legend drawn over the longest bars."""
    import matplotlib.pyplot as plt

    from knowledge_base.gaps import figure

    fig = figure(_gaps_with(["how do I book a parking space in the garage downstairs on fridays please",
                             "business cards", "can I get a second monitor for working from home",
                             "docking station", "is chatgpt allowed"]))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        (ax,) = fig.axes
        titles = [t for t in (fig._suptitle, ax.title) if t is not None]
        for text in titles + list(ax.get_yticklabels()):
            if text.get_text():
                ext = text.get_window_extent(renderer)
                assert box.x0 - 1 <= ext.x0 and ext.x1 <= box.x1 + 1 and ext.y1 <= box.y1 + 1, text.get_text()
        legends = fig.legends + ([ax.get_legend()] if ax.get_legend() else [])
        assert legends and not any(leg.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
                                   for leg in legends)
    finally:
        plt.close(fig)


def test_a_pasted_log_is_listed_short(migrated_db, encoder):
    paste = "my vpn is broken, log follows\n" + "2026-11-30 09:14:01 WARN gp-client retrying tunnel\n" * 80
    asked = [AnsweredQuestion(paste, "declined", dt.datetime(2026, 11, 25, 12, 0))]
    with migrated_db.session() as s:
        (gap,) = find_gaps(s, asked, lambda: encoder)
    d = gap.to_dict()
    assert len(d["topic"]) <= 160 and d["topic"].startswith("my vpn is broken, log follows")
    assert all(len(e) <= 160 and "\n" not in e for e in d["examples"])
    assert gap.questions[0].text == paste  # the full text is kept, only the listing is short
