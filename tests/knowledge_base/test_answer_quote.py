"""The quote under an answer's gist shows only what the gist does not: never the same lines twice."""

from __future__ import annotations

import textwrap

from knowledge_base.chunking import chunk_article
from knowledge_base.compose import quote_beyond
from knowledge_base.gist import build_gist

BODY = textwrap.dedent("""
    ## Offices

    | Office | Wi-Fi network | Printer |
    |---|---|---|
    | Berlin | acme-ber | HP 4th floor |
    | Paris | acme-par | Canon lobby |
    | London | acme-lon | none |

    ## Set up

    To connect from home:

    1. Open [GlobalProtect](https://example.com/gp) from the menu bar.
    2. Enter the portal **vpn.example.com**.
    3. Sign in with your SSO account.

    ## Travel

    Abroad the VPN may be slow. Hotels often block it. Read the [travel policy](https://example.com/t) first.
    """)


def _answer(question: str, section: str) -> tuple[str, str | None]:
    """(gist, quote) as the answer flow builds them from the section's chunk."""
    passage = next(c.text for c in chunk_article("VPN", BODY) if c.section == section)
    gist = build_gist(question, "VPN", BODY, section, passage)
    assert gist is not None
    return gist.text, quote_beyond(gist.text, passage)


def test_a_gist_that_is_the_whole_section_has_no_quote():
    gist, quote = _answer("how do I connect from home", "Set up")
    assert "3. Sign in with your SSO account." in gist
    assert quote is None


def test_the_quote_keeps_the_rows_the_gist_does_not_show_one_per_line():
    gist, quote = _answer("what is the wifi network in the Paris office", "Offices")
    assert "acme-par" in gist and quote is not None
    assert quote.splitlines() == ["Office: Berlin; Wi-Fi network: acme-ber; Printer: HP 4th floor",
                                  "Office: London; Wi-Fi network: acme-lon; Printer: none"]


def test_the_quote_keeps_the_sentences_the_gist_does_not_show():
    gist, quote = _answer("where is the travel policy", "Travel")
    assert gist == "Read the [travel policy](https://example.com/t) first."
    assert quote == "Abroad the VPN may be slow. Hotels often block it."


def test_a_quote_the_gist_shows_whole_is_dropped_and_a_lead_in_goes_with_its_lines():
    passage = "To connect:\n1. Open the app.\n2. Sign in.\n3. Approve the push.\n\nPrinters:\nUse FollowMe."
    assert quote_beyond(passage.replace("app", "**app**"), passage) is None
    # most of it shown: the one line left is still the answer's next step, so it stays
    assert quote_beyond("To connect:\n1. Open the **app**.\n2. Sign in.\n3. Approve the push.", passage) == (
        "Printers:\nUse FollowMe.")
    assert quote_beyond("1. Open the app.\n2. Sign in.", passage) == (
        "3. Approve the push.\n\nPrinters:\nUse FollowMe.")  # 2 of 4: the rest adds material
    assert quote_beyond("Use FollowMe.", passage) == "To connect:\n1. Open the app.\n2. Sign in.\n3. Approve the push."
    assert quote_beyond("Something else entirely.", passage) == passage
