"""Lint: broken internal links, missing owner, overdue review, duplicate titles, empty sections."""

from __future__ import annotations

import datetime as dt

from knowledge_base.lint import lint_articles
from knowledge_base.store import read_folder
from tests.knowledge_base.conftest import write


def test_each_rule_reports_file_and_line(tmp_path):
    root = tmp_path / "kb"
    write(root, "a.md", """
        ---
        title: Alpha
        owner: a@example.com
        review_by: 2020-01-01
        ---
        See [Beta](b.md) and [nowhere](missing.md) and [the web](https://example.org).

        ## Empty

        ## Full

        Text.
        """)
    write(root, "b.md", "---\ntitle: Alpha\n---\nNo owner here. Back to [a](/a/).\n")
    findings = lint_articles(read_folder(root, []), today=dt.date(2026, 1, 1))
    got = {(f.rule, f.path, f.line) for f in findings}
    assert ("broken-link", "a.md", 6) in got
    assert ("review-overdue", "a.md", 1) in got
    assert ("empty-section", "a.md", 8) in got
    assert ("missing-owner", "b.md", 1) in got
    assert {("duplicate-title", "a.md", 1), ("duplicate-title", "b.md", 1)} <= got
    assert len([f for f in findings if f.rule == "broken-link"]) == 1  # b.md and /a/ resolve


def test_clean_article_has_no_findings(articles):
    findings = lint_articles(read_folder(articles, []), today=dt.date(2026, 1, 1))
    assert [f for f in findings if f.path == "network/vpn.md"] == []


def test_bundled_articles_are_lint_clean():
    from tests.conftest import ROOT

    errors: list = []
    arts = read_folder(ROOT / "data" / "kb", errors)
    assert errors == [] and len([a for a in arts if a.status == "published"]) >= 25
    assert any(a.audience for a in arts)
    findings = [f for f in lint_articles(arts, today=dt.date(2026, 11, 25)) if f.rule != "review-overdue"]
    assert findings == []


def test_sections_are_the_indexed_ones_setext_headings_count_and_code_is_not_a_heading(tmp_path):
    """Lint reads sections as the index does (markdown-it): an empty setext section is reported at its
    heading's line; a '#' line in a fenced block is code; a '~~~' line does not close a ``` fence (the old
    line-by-line splitter missed 'Setup', and from that '~~~' on took the rest for code, missing 'Empty')."""
    root = tmp_path / "kb"
    write(root, "c.md", """
        ---
        title: Gamma
        owner: c@example.com
        ---
        Intro.

        Setup
        -----

        ## Commands

        ```
        # Not a heading
        ~~~
        ```

        ## Empty
        """)
    findings = lint_articles(read_folder(root, []), today=dt.date(2026, 1, 1))
    assert [(f.rule, f.line, f.message) for f in findings] == [
        ("empty-section", 7, "section 'Setup' has no text."),
        ("empty-section", 17, "section 'Empty' has no text."),
    ]


def test_links_in_code_are_not_checked_and_real_links_are_found_on_their_line(tmp_path):
    """Links are read with the index's Markdown parser: a link written in a code fence, an indented code
    block or an `inline code` span is an example, not a link; a URL with parentheses is read whole; a
    reference link is reported where its target is written (its definition)."""
    root = tmp_path / "kb"
    write(root, "café.md", "---\ntitle: Café\nowner: c@example.com\n---\nCoffee.\n")
    write(root, "d.md", """
        ---
        title: Delta
        owner: d@example.com
        ---
        Write a link as `[text](no-such-page.md)` in Markdown, see
        the [old setup](setup_(old).md) page and the [café](café.md).

        ```markdown
        [Guide](fenced-missing.md)
        ```

            [Guide](indented-missing.md)

        Read the [old guide][old] and the [old guide][old] again.

        [old]: old-guide.md
        """)
    findings = lint_articles(read_folder(root, []), today=dt.date(2026, 1, 1))
    assert [(f.line, f.message) for f in findings if f.rule == "broken-link"] == [
        (6, "link to 'setup_(old).md' does not match any article."),
        (16, "link to 'old-guide.md' does not match any article."),
    ]
