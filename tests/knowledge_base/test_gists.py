"""Gists that read as answers: the list, rows or sentences that answer, in Markdown, capped, linked."""

from __future__ import annotations

import textwrap

import pytest
from sqlalchemy import select

from bot.channels.slack.blocks import render_reply
from bot.messages import Outcome, Reply, plain_text
from knowledge_base.gist import GIST_CHARS, build_gist
from knowledge_base.models import KbArticleVersion, KbChunk
from tests.knowledge_base.conftest import write

BODY = textwrap.dedent("""
    # VPN

    GlobalProtect is the company VPN. It works on company laptops only.

    ## Set up the VPN

    To connect from home:

    1. Open [GlobalProtect](https://example.com/gp_(client)) from the menu bar.
    2. Enter the portal **vpn.example.com**.
    3. Sign in with your SSO account.
    4. Approve the push on your phone.
    5. Wait for the globe icon to turn blue.
    6. Start working.
    7. Disconnect when you are done.

    Offices
    -------

    | Office | Wi-Fi network | Printer |
    |---|---|---|
    | Berlin | acme-ber | HP 4th floor |
    | Paris | acme-par | Canon lobby |
    | London | acme-lon | none |

    ## Reset

    If the client hangs, run:

    ```
    sudo gp reset --all
    ```

    ## Travel

    Abroad the VPN may be slow. Hotels often block it, so use your phone's hotspot instead.
    Read the [travel policy](https://intranet.example.com/travel) before you go.
    """)


def test_a_step_list_stays_a_numbered_list_with_its_lead_in():
    g = build_gist("how do I set up the vpn from home", "VPN", BODY, "Set up the VPN")
    assert g is not None and g.anchor == "set-up-the-vpn" and g.section == "Set up the VPN"
    lines = g.text.splitlines()
    assert lines[0] == "To connect from home:"
    assert lines[1] == "1. Open [GlobalProtect](https://example.com/gp_%28client%29) from the menu bar."
    assert lines[2] == "2. Enter the portal **vpn.example.com**."
    assert [line.split(".")[0] for line in lines[1:6]] == ["1", "2", "3", "4", "5"]
    assert lines[-1] == "…and 2 more steps"


def test_a_table_row_keeps_its_header():
    g = build_gist("what is the wifi network in the Paris office", "VPN", BODY, "Offices")
    assert g is not None and g.anchor == "offices"
    assert g.text.splitlines()[:3] == ["**Office:** Paris", "**Wi-Fi network:** acme-par", "**Printer:** Canon lobby"]
    assert "Berlin" not in g.text


def test_sentences_answer_and_keep_their_links():
    g = build_gist("does the hotel block the vpn", "VPN", BODY, "Travel")
    assert g is not None  # the best sentence, and the next best one, in their order
    assert g.text == "Abroad the VPN may be slow. Hotels often block it, so use your phone's hotspot instead."
    g = build_gist("where is the travel policy", "VPN", BODY, "Travel")
    assert g is not None and "[travel policy](https://intranet.example.com/travel)" in g.text


def test_code_follows_the_sentence_that_introduces_it_verbatim():
    g = build_gist("the vpn client hangs", "VPN", BODY, "Reset")
    assert g is not None and g.text == "If the client hangs, run:\n```\nsudo gp reset --all\n```"


def test_the_top_of_an_article_has_no_anchor_and_a_missing_section_gives_none():
    g = build_gist("which laptops does the vpn work on", "VPN", BODY, None)
    assert g is not None and g.anchor is None and "company laptops only" in g.text
    assert build_gist("anything", "VPN", BODY, "No such heading") is None


def test_the_cap_holds_for_long_items_rows_and_sentences():
    long_items = "\n".join(f"{n}. " + "Press the very long button labelled continue " * 12 for n in range(1, 30))
    g = build_gist("press continue", "T", f"## Steps\n\n{long_items}\n", "Steps")
    assert g is not None and len(g.text) <= GIST_CHARS and g.text.endswith("more steps")
    sentence = "The badge office is open " + "and friendly " * 80 + "on Mondays."
    g = build_gist("badge office", "T", f"## Badges\n\n{sentence}\n", "Badges")
    assert g is not None and len(g.text) <= GIST_CHARS and g.text.endswith("…")


def test_a_long_list_keeps_the_item_that_answers_when_cut_to_fit():
    filler = "Some other advice that goes on for quite a while. " * 3
    items = "\n".join(f"- Tip {n}. {filler}" for n in range(1, 5))
    body = f"## Tips\n\n{items}\n- Service for inactive accounts is disabled: if you only use data, make a call.\n"
    g = build_gist("my phone service got shut off, i only use data", "T", body, "Tips")
    assert g is not None and len(g.text) <= GIST_CHARS
    lines = g.text.splitlines()
    assert "- Service for inactive accounts is disabled: if you only use data, make a call." in lines
    assert lines[-1].startswith("…and ") and len(lines) < 6  # the other tips were dropped to fit


def test_a_cut_step_list_keeps_its_steps_contiguous_around_the_answer():
    steps = "\n".join(f"{n}. Do step number {n} " + "carefully and slowly " * 6 for n in range(1, 13))
    body = f"## Install\n\n{steps}\n13. Run the backend tests with bin/tests\n"
    g = build_gist("how do I run the backend tests", "T", body, "Install")
    assert g is not None and len(g.text) <= GIST_CHARS
    numbers = [int(line.split(".")[0]) for line in g.text.splitlines() if line[0].isdigit()]
    assert 13 in numbers and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_checklist_lines_stay_lines():
    body = ("## Checklist\n\nReturn the laptop <br />\nEmail payroll your last day <br />\n"
            "Transfer their Google Drive to the manager before deleting the account <br />\n")
    g = build_gist("what happens to the google drive and the account of a leaver", "T", body, "Checklist")
    assert g is not None
    assert g.text == "Transfer their Google Drive to the manager before deleting the account"


def _answer_reply(text: str) -> Reply:
    return Reply(text=text, outcome=Outcome.ANSWERED)


def test_slack_and_terminal_render_the_markdown_gist():
    g = build_gist("what is the wifi network in the Paris office", "VPN", BODY, "Offices")
    steps = build_gist("how do I set up the vpn from home", "VPN", BODY, "Set up the VPN")
    assert g is not None and steps is not None
    url = "https://intranet.example.com/kb/it/vpn#offices"
    text = f"{g.text}\n\n{steps.text}\n\nFrom [“VPN” › Offices]({url}). Did this help?"
    _, blocks = render_reply(_answer_reply(text))
    shown = blocks[0]["text"]["text"]
    assert "*Office:* Paris" in shown and "**" not in shown
    assert f"<{url}|“VPN” › Offices>" in shown
    assert "<https://example.com/gp_%28client%29|GlobalProtect>" in shown
    assert "\n3. Sign in with your SSO account.\n" in shown
    terminal = plain_text(text)
    assert "Office: Paris" in terminal and "**" not in terminal and "](" not in terminal
    assert f"From “VPN” › Offices ({url})." in terminal


@pytest.mark.slow  # loads the sentence encoder
def test_answers_quote_the_steps_and_link_the_section(kb_settings, migrated_db, encoder, articles):
    from bot.flows.base import TurnContext
    from bot.messages import Message
    from bot.services import Services
    from bot.storage.models import ConversationState

    write(articles, "network/vpn-setup.md", "---\ntitle: VPN\n---\n" + BODY)
    services = Services(kb_settings, migrated_db, encoder=encoder)
    with services.db.session() as session:
        state = ConversationState(user_key="terminal:ann", slots={})
        session.add(state)
        ctx = TurnContext(message=Message(text="how do I set up the vpn from home", user_key="terminal:ann"),
                          session=session, state=state, secrets=services.secrets, encode=encoder.encode_one)
        reply = services.flows["answer"].handle_intent(ctx)
    assert reply.outcome is Outcome.ANSWERED
    assert "\n1. Open [GlobalProtect](https://example.com/gp_%28client%29) from the menu bar.\n" in reply.text
    assert ("From [“VPN” › Set up the VPN]"
            "(https://intranet.example.com/kb/network/vpn-setup#set-up-the-vpn). Did this help?") in reply.text


@pytest.mark.slow  # loads the sentence encoder
def test_a_new_chunker_rechunks_an_unchanged_base_once(kb, articles, migrated_db, counting_encoder):
    kb.import_dir(articles)
    with migrated_db.session() as s:  # as an older chunker left it: other chunk texts, no format stamp
        for c in s.scalars(select(KbChunk).where(KbChunk.article_id == "network/vpn", KbChunk.ordinal > 0)):
            c.text = "old flattened text"
        for v in s.scalars(select(KbArticleVersion)):
            v.meta = {k: val for k, val in v.meta.items() if k != "_chunks"}
    counting_encoder.seen.clear()
    again = kb.import_dir(articles)
    assert again.changed == [] and sorted(again.unchanged) == ["help/printing", "it-staff/admin", "network/vpn"]
    with migrated_db.session() as s:
        texts = [c.text for c in s.scalars(select(KbChunk).where(KbChunk.article_id == "network/vpn"))]
        versions = s.scalars(select(KbArticleVersion)).all()
        assert "old flattened text" not in texts and any("globe icon" in t for t in texts)
        assert len(versions) == 3  # re-chunking writes no new version
    assert counting_encoder.seen == []  # same texts as before: vectors reused
    third = kb.import_dir(articles)
    assert third.changed == [] and counting_encoder.seen == []
    with migrated_db.session() as s:
        assert [c.text for c in s.scalars(select(KbChunk).where(KbChunk.article_id == "network/vpn"))] == texts
