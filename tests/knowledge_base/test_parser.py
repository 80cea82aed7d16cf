"""Parsing real-world Markdown: front matter variants, Liquid tags, errors that name file and line."""

from __future__ import annotations

import pytest

from bot.errors import DataError
from knowledge_base.chunking import chunk_article
from knowledge_base.parser import parse_article


def test_front_matter_fields_are_read():
    art = parse_article(
        "---\ntitle: VPN\ntags: vpn, network\naudience: IT-Staff\nowner: a@b.c\nstatus: draft\n"
        "review_by: 2027-01-31\naliases: [remote access]\nquestions:\n  - how do I connect\n---\nBody\n",
        "net/vpn.md")
    assert (art.id, art.title, art.status, art.review_by) == ("net/vpn", "VPN", "draft", "2027-01-31")
    assert art.tags == ["vpn", "network"] and art.audience == ["it-staff"] and art.owner == "a@b.c"
    assert art.aliases == ["remote access", "how do I connect"]


def test_a_list_item_written_as_a_mapping_gives_its_text_never_its_repr():
    art = parse_article("---\ntitle: Travel\nquestions:\n  - travel\n  - text: Book office hours\n"
                        "    url: https://calendar.example.com/x\n  - {url: https://only.example.com}\n"
                        "  - [nested, list]\ntags:\n  - name: trips\n---\nBody\n", "travel.md")
    assert art.aliases == ["travel", "Book office hours"]
    assert art.tags == ["trips"]


def test_a_subtitle_description_or_summary_describes_the_page_in_its_card():
    art = parse_article("---\ntitle: Concur\nsubtitle: Step 1a\ndescription: Getting in\nsummary: Four steps\n---\n"
                        "Body\n", "travel/concur.md")
    assert art.aliases == ["Step 1a", "Getting in", "Four steps"]


def test_no_front_matter_takes_title_from_heading():
    art = parse_article("# Printing guide\n\nText.\n", "printing.md")
    assert art.title == "Printing guide" and art.status == "published"


def test_malformed_yaml_names_file_and_line():
    with pytest.raises(DataError) as err:
        parse_article("---\ntitle: ok\ntags: [a, b\nowner: x\n---\nbody\n", "bad/file.md")
    assert err.value.path == "bad/file.md"
    assert err.value.line in (3, 4, 5)
    assert "bad/file.md:" in err.value.user_message


def test_unclosed_front_matter_is_reported():
    with pytest.raises(DataError, match="never closed"):
        parse_article("---\ntitle: x\n\nbody without a closing fence\n", "x.md")


def test_invalid_status_and_date_name_the_field_line():
    with pytest.raises(DataError) as err:
        parse_article("---\ntitle: x\nstatus: live\n---\n", "x.md")
    assert err.value.line == 3 and "status" in err.value.user_message
    with pytest.raises(DataError, match="review_by"):
        parse_article("---\ntitle: x\nreview_by: next year\n---\n", "x.md")


def test_liquid_tags_are_resolved_for_search_and_quotes():
    md = ('See [Zoom]({% page "/tools/zoom/" %}) or ask in {% slack_channel "it-help" %}.\n'
          "{% comment %}internal note{% endcomment %}{% alert %}Careful{% endalert %} {{ site.base_url }}\n")
    text = " ".join(c.text for c in chunk_article("Zoom", md))
    assert "See Zoom or ask in #it-help." in text
    assert "internal note" not in text and "{%" not in text and "{{" not in text and "Careful" in text


def test_chunks_follow_sections():
    chunks = chunk_article("Guide", "Intro text here for everyone to read first.\n\n## Setup\n\nStep one.\n\n"
                                    "### Windows\n\nRun the installer on Windows laptops now.\n")
    assert [c.section for c in chunks] == [None, "Setup", "Setup > Windows"]


def test_toml_front_matter_is_accepted_and_its_errors_located():
    art = parse_article('+++\ntitle = "Printing"\ntags = ["printer"]\nowner = "w@example.com"\n+++\nBody\n', "p.md")
    assert (art.title, art.tags, art.owner, art.body) == ("Printing", ["printer"], "w@example.com", "Body\n")
    with pytest.raises(DataError) as err:
        parse_article('+++\ntitle = "x"\ntags = [oops\n+++\n', "p.md")
    assert err.value.line == 3


def test_mdx_pages_are_articles_without_their_imports_and_components(tmp_path):
    from knowledge_base.store import find_files

    mdx = ("---\ntitle: Compensation\n---\n\nimport Calculator from '../components/Calculator'\n\n"
           "## How it works\n\nWe keep pay simple.\n\n<Calculator />\n\nAsk People Ops about bands.\n\n"
           "```js\nimport x from 'y'\n```\n")
    (tmp_path / "people").mkdir()
    (tmp_path / "people" / "compensation.mdx").write_text(mdx, encoding="utf-8")
    (tmp_path / "people" / "notes.txt").write_text("not an article", encoding="utf-8")
    assert [p.name for p in find_files(tmp_path)] == ["compensation.mdx"]
    art = parse_article(mdx, "people/compensation.mdx")
    assert art.id == "people/compensation" and art.raw_text == mdx  # stored as written: export round-trips
    text = " ".join(c.text for c in chunk_article(art.title, art.body))
    assert "We keep pay simple" in text and "Ask People Ops about bands" in text
    assert "import Calculator" not in text and "<Calculator" not in text
    assert "import x from 'y'" in art.body  # code stays code
    assert art.body.count("\n") == mdx.split("---\n", 2)[2].count("\n")  # line numbers unchanged
