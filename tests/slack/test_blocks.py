"""Block Kit rendering stays within Slack's documented limits and truncates gracefully."""

from __future__ import annotations

import json

from bot.channels.slack.blocks import decode_value, encode_value, render_reply, truncate
from bot.channels.slack.home import home_view
from bot.channels.slack.modals import read_submission, ticket_modal
from bot.messages import Button, FormRequest, Outcome, Reply, Source
from tests.slack.blockkit import check_blocks, check_view

ARTICLE = Source(article_id="vpn", title="Connecting to the VPN", url="https://kb.example.com/vpn",
                 section="Connect", review_by="2027-03-01")


def answer(**kw) -> Reply:
    base = dict(text="Click the globe icon and enter **vpn.example.com**.", outcome=Outcome.ANSWERED,
                quote="Open GlobalProtect.\nEnter the portal address.", sources=[ARTICLE],
                related=[Source("wifi", "Wi-Fi at the office", "https://kb.example.com/wifi")],
                buttons=[Button("Helpful", "answer.feedback", {"helpful": True, "article_id": "vpn"}),
                         Button("Not helpful", "answer.feedback", {"helpful": False, "article_id": "vpn"}),
                         Button("Open a ticket", "ticket.open", {"summary": "vpn"})])
    base.update(kw)
    return Reply(**base)


def test_an_answer_shows_quote_source_link_review_date_related_and_buttons() -> None:
    text, blocks = render_reply(answer())
    assert check_blocks(blocks) == []
    flat = json.dumps(blocks)
    assert "*vpn.example.com*" in flat                        # markdown bold → mrkdwn
    assert "> Open GlobalProtect." in flat                    # the quoted section
    assert "<https://kb.example.com/vpn|Connecting to the VPN>" in flat and "2027-03-01" in flat
    assert "<https://kb.example.com/wifi|Wi-Fi at the office>" in flat
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Helpful", "Not helpful", "Open a ticket"]
    assert len({b["action_id"] for b in buttons}) == 3       # unique even with the same engine action
    assert decode_value(buttons[1]["value"]).value == {"helpful": False, "article_id": "vpn"}
    assert text.startswith("Click the globe icon")


def test_huge_text_is_cut_to_50_blocks_with_a_link_to_the_full_article() -> None:
    para = ("VPN troubleshooting step with plenty of detail. " * 40).strip()
    reply = answer(text="\n\n".join([para] * 80), quote="q " * 4000)
    text, blocks = render_reply(reply)
    assert check_blocks(blocks) == []
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert any(s.endswith("<https://kb.example.com/vpn|Read the full article>") for s in sections)
    assert any(b["type"] == "actions" for b in blocks)       # buttons survive the truncation
    assert len(text) <= 3000


def test_one_enormous_paragraph_is_split_into_sections() -> None:
    _, blocks = render_reply(Reply(text="word " * 2000))
    assert check_blocks(blocks) == [] and len(blocks) >= 4


def test_button_text_and_value_limits() -> None:
    long_q = "why " * 3000
    reply = Reply(text="?", buttons=[Button("L" * 200, "router.choose", {"intent": "vpn_issue", "text": long_q}),
                                     Button("Docs", "link", url="https://kb.example.com/" + "a" * 4000)])
    _, blocks = render_reply(reply)
    assert check_blocks(blocks) == []
    first, second = blocks[-1]["elements"]
    assert len(first["text"]["text"]) <= 75 and first["text"]["text"].endswith("…")
    assert len(first["value"]) <= 2000
    action = decode_value(first["value"])
    assert action.action_id == "router.choose" and action.value["intent"] == "vpn_issue"
    assert long_q.startswith(action.value["text"])           # shortened, not garbled
    assert "url" not in second                                # an over-long URL is not sent


def test_many_buttons_stay_within_actions_and_block_limits() -> None:
    reply = Reply(text="Did you mean…", outcome=Outcome.CLARIFY,
                  buttons=[Button(f"Choice {i}", "router.choose", {"intent": f"i{i}"}) for i in range(80)])
    _, blocks = render_reply(reply)
    assert check_blocks(blocks) == []
    assert all(len(b["elements"]) <= 25 for b in blocks if b["type"] == "actions")


def test_text_with_slack_control_characters_is_escaped() -> None:
    _, blocks = render_reply(Reply(text="use <script> & [the portal](https://vpn.example.com)"))
    assert blocks[0]["text"]["text"] == "use &lt;script&gt; &amp; <https://vpn.example.com|the portal>"


def test_truncation_never_leaves_half_a_link_or_entity() -> None:
    text = "a " * 10 + "<https://kb.example.com/x|a link>" + " b" * 10
    cut = truncate(text, 30)
    assert cut.count("<") == cut.count(">") and len(cut) <= 30
    assert not truncate("x" * 20 + " &amp; tail", 24).rstrip("…").endswith("&")


def test_a_form_reply_offers_the_modal() -> None:
    reply = Reply(text="Let's open a ticket.", form=FormRequest("ticket", "ticket.submit", "Open a ticket",
                                                               {"summary": "vpn", "urgency": "normal"}))
    _, blocks = render_reply(reply)
    element = blocks[-1]["elements"][0]
    action = decode_value(element["value"])
    assert action.action_id == "slack.form" and action.value["fields"]["summary"] == "vpn"


def test_ticket_modal_is_within_limits_and_round_trips() -> None:
    view = ticket_modal({"summary": "S" * 400, "details": "D" * 5000, "urgency": "bogus"},
                        title="Open a ticket for the IT service desk", channel="C1", thread_ts="1.2")
    assert check_view(view) == []
    assert len(view["blocks"][0]["element"]["initial_value"]) <= 250
    assert view["blocks"][2]["element"]["initial_option"]["value"] == "normal"
    state = {"values": {"summary": {"value": {"type": "plain_text_input", "value": " Printer jams "}},
                        "details": {"value": {"type": "plain_text_input", "value": None}},
                        "urgency": {"value": {"type": "static_select",
                                              "selected_option": {"value": "critical"}}}}}
    action, meta = read_submission({**view, "state": state})
    assert action.action_id == "ticket.submit"
    assert action.value == {"summary": "Printer jams", "details": "", "urgency": "critical"}
    assert meta == {"submit": "ticket.submit", "channel": "C1", "thread_ts": "1.2"}


def test_home_view_is_within_limits_with_many_tickets() -> None:
    tickets = [{"key": f"IT-{i}", "summary": "x" * 500, "status": "Open", "url": None} for i in range(40)]
    for listing in (tickets, [], None):
        assert check_view(home_view(tickets=listing)) == []


def test_encode_value_always_fits() -> None:
    raw = encode_value("a.b", {"nested": [{"t": "é" * 5000}], "n": 3})
    assert len(raw) <= 2000 and decode_value(raw).value["n"] == 3


def test_header_and_modal_title_limits() -> None:
    from bot.channels.slack.blocks import header

    assert len(header("H" * 400)["text"]["text"]) == 150
    view = ticket_modal({}, title="A very long form title that Slack would refuse")
    assert len(view["title"]["text"]) <= 24 and check_view(view) == []
