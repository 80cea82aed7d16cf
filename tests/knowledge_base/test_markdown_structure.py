"""Markdown parsed with a real parser: headings, lists, tables, links, code and HTML become the right chunks."""

from __future__ import annotations

import textwrap

from knowledge_base.chunking import MAX_WORDS, chunk_article
from knowledge_base.structure import parse_sections, slug


def _body(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _blocks(body: str, title: str = "Title"):
    return [(s.label(), b) for s in parse_sections(_body(body), title) for b in s.blocks]


def test_setext_and_atx_headings_are_sections_with_paths():
    body = """
    Title
    =====

    Intro.

    Laptops
    -------

    Get one from IT.

    ### Returning a laptop ###

    Bring it to the desk.
    """
    chunks = chunk_article("Title", _body(body))
    assert [(c.section, c.text) for c in chunks] == [
        (None, "Intro."), ("Laptops", "Get one from IT."),
        ("Laptops > Returning a laptop", "Bring it to the desk.")]
    secs = parse_sections(_body(body), "Title")
    assert [s.anchor for s in secs if s.heading] == ["title", "laptops", "returning-a-laptop"]
    assert secs[-1].line == 11  # a heading keeps its line in the body (for lint)
    # a "# heading" inside a fence is code, not a section
    fenced = chunk_article("T", "## Real\n\n```sh\n# not a heading\necho hi\n```\n")
    assert [c.section for c in fenced] == ["Real"] and "# not a heading" in fenced[0].text


def test_ordered_and_nested_lists_keep_numbers_and_nesting():
    body = """
    ## Steps

    3. Open the app.
    4. Sign in with
       your SSO account.
       - use the **work** e-mail
    5. Done.
    """
    [(label, block)] = _blocks(body)
    assert label == "Steps" and block.kind == "list" and block.ordered
    assert block.plain == "3. Open the app.\n4. Sign in with your SSO account.\n  - use the work e-mail\n5. Done."
    assert "  - use the **work** e-mail" in block.md.splitlines()


def test_tables_become_rows_that_keep_their_header():
    body = """
    ## Offices

    | Office | Wi-Fi | Printer |
    |--------|:-----:|---------|
    | Berlin | acme-ber | HP |
    | Paris  | acme-par |  |
    """
    [(_, table)] = _blocks(body)
    assert table.kind == "table" and table.header == ["Office", "Wi-Fi", "Printer"]
    # each row indexable as "header: value" pairs; an empty cell is left out
    assert table.plain.splitlines() == ["Office: Berlin; Wi-Fi: acme-ber; Printer: HP",
                                        "Office: Paris; Wi-Fi: acme-par"]
    assert table.md.splitlines()[1] == "**Office:** Paris · **Wi-Fi:** acme-par"


def test_links_keep_their_text_and_a_url_with_parentheses():
    body = ("See [the wiki](https://en.wikipedia.org/wiki/VPN_(network)) and "
            "[docs](https://docs.example.com \"Docs (title)\"), or [local](../other/) and ![logo](x.png).\n")
    [(_, para)] = _blocks(body)
    assert para.plain == "See the wiki and docs, or local and logo."
    assert "[the wiki](https://en.wikipedia.org/wiki/VPN_%28network%29)" in para.md
    assert "[docs](https://docs.example.com)" in para.md
    assert "local" in para.md and "../other/" not in para.md and "x.png" not in para.md


def test_code_is_kept_verbatim_and_html_is_dropped():
    body = """
    ## Reset

    Run:

    ```sh
    sudo gp reset --all  # keep_this_token
    ```

        indented_code --flag

    <!-- an editor's note
    over two lines -->
    <div class="note">Call <b>IT</b> &amp; wait.</div>

    Text with <span>inline</span> HTML.{: .kramdown}
    """
    blocks = [b for _, b in _blocks(body)]
    assert [b.kind for b in blocks] == ["para", "code", "code", "para", "para"]
    assert blocks[1].plain == "sudo gp reset --all  # keep_this_token"
    assert blocks[1].md == "```\nsudo gp reset --all  # keep_this_token\n```"
    assert blocks[2].plain == "indented_code --flag"
    assert blocks[3].plain == "Call IT & wait."
    assert blocks[4].plain == "Text with inline HTML."
    text = chunk_article("T", _body(body))[0].text
    assert "editor's note" not in text and "<" not in text and "keep_this_token" in text


def test_liquid_tags_are_resolved_and_lines_kept():
    body = "{% comment %}\nhidden\n{% endcomment %}\n## Chat\n\nAsk in {% slack_channel \"help\" %}.\n"
    [sec] = [s for s in parse_sections(body) if s.heading]
    assert sec.line == 4 and sec.blocks[0].plain == "Ask in #help."


def test_long_sections_split_between_list_items_and_rows_never_inside():
    items = "\n".join(f"{n}. Step {n} " + " ".join(["word"] * 12) + "." for n in range(1, 21))
    rows = "\n".join(f"| r{n} | " + " ".join(["cell"] * 10) + " |" for n in range(1, 21))
    body = f"## Steps\n\n{items}\n\n## Table\n\n| Name | Value |\n|---|---|\n{rows}\n"
    chunks = chunk_article("T", body)
    steps = [c for c in chunks if c.section == "Steps"]
    assert len(steps) > 1 and all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    lines = [line for c in steps for line in c.text.splitlines()]
    assert lines == [f"{n}. Step {n} " + " ".join(["word"] * 12) + "." for n in range(1, 21)]
    table = [c for c in chunks if c.section == "Table"]
    assert len(table) > 1
    assert all(line.startswith("Name: r") and "; Value: cell" in line for c in table for line in c.text.splitlines())


def test_slug_matches_common_renderers():
    assert slug("Set up the VPN (macOS)!") == "set-up-the-vpn-macos"
    assert slug("Wi-Fi & printers") == "wi-fi--printers"


def test_a_list_stays_with_the_sentence_that_introduces_it():
    body = ("## Managers\n\nA manager has two tasks:\n\n1. Keep reports happy\n2. Set context\n\n"
            "A manager is not responsible for:\n\n" + "\n".join(f"{n}. Duty number {n} " + "detail " * 10
                                                                for n in range(1, 7)) + "\n")
    chunks = chunk_article("T", body)
    assert [c.text.splitlines()[0] for c in chunks] == ["A manager has two tasks:", "A manager is not responsible for:"]
    long_list = "Before you leave:\n\n" + "\n".join(f"- Return item {n} " + "word " * 15 for n in range(1, 13))
    pieces = chunk_article("T", "## Leaving\n\n" + long_list + "\n")
    assert len(pieces) > 1 and all(p.text.startswith("Before you leave:") for p in pieces)


def test_html_line_breaks_keep_lines_apart():
    body = ("## Checklist\n\n<input type=\"checkbox\"/> Return the laptop <br />\n"
            "<input type=\"checkbox\"/> Suspend the account <br />\n")
    [(_, para)] = _blocks(body)
    assert para.plain.splitlines() == ["Return the laptop", "Suspend the account"]
