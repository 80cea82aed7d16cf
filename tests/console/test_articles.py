"""Articles: a trainer edits, checks, publishes, compares, retires and restores; drafts are never served;
what the console stores is the file ``kb export`` writes, and ``kb import`` of it is a no-op."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.messages import Message
from tests.console.conftest import ROOT, STAFF, TRAINER, ConsoleStack, build_console_stack

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ZEBRA = ("\n## Zebrafish gateway\n\nWhen the usual address fails, the zebrafish gateway "
         "vpn-zebra.example.com connects you to the VPN.\n")
ZEBRA_Q = "what is the zebrafish gateway for the VPN?"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, console_stack: ConsoleStack) -> Iterator[ConsoleStack]:
    """This module's own stack (its tests change articles); the intent model is the shared stack's."""
    from sqlalchemy import select

    from bot.encoding import DIM
    from bot.vector_cache import VectorFileCache
    from knowledge_base.embeddings import from_bytes
    from knowledge_base.models import KbChunk

    _ = console_stack.services.nlu  # trained once per session, then loaded from its models folder
    models = str(console_stack.settings.paths.models_dir)
    cache = VectorFileCache()  # the shared stack's chunk vectors, by text hash: the same texts are not re-encoded
    with console_stack.db.session() as shared:
        for key, blob in shared.execute(select(KbChunk.text_hash, KbChunk.embedding)):
            vector = from_bytes(blob, DIM)
            if vector is not None:
                cache.put(key, vector)
    with build_console_stack(tmp_path_factory.mktemp("articles"), import_kb=False,
                             sections={"paths": {"models_dir": models}}) as s:
        kb = s.services.kb
        kb.importer.vector_cache = cache
        kb.import_dir(ROOT / "data" / "kb")
        kb.mark_bootstrapped()
        kb.importer.vector_cache = None
        yield s


def ask(stack: ConsoleStack, text: str, user: str = "articles-test") -> Any:
    """What the bot answers an employee (the engine, as every channel calls it)."""
    from bot.engine import Engine

    return Engine(stack.services).handle(Message(text=text, user_key=f"terminal:{user}", channel="terminal"))


def said(reply: Any) -> str:
    return f"{reply.text}\n{reply.quote or ''}"


def text_of(stack: ConsoleStack, article_id: str) -> dict[str, Any]:
    data: dict[str, Any] = stack.services.kb.show_article(article_id)
    return data


def client(stack: ConsoleStack, email: str = TRAINER) -> httpx.Client:
    return stack.client(email)


def post_editor(c: httpx.Client, article_id: str, **changes: str) -> httpx.Response:
    """Submit the editor of ``article_id`` as the page shows it, with ``changes`` (and ``action``)."""
    page = c.get(f"/console/articles/edit/{article_id}")
    assert page.status_code == 200
    form = {"csrf_token": CSRF.search(page.text).group(1)}  # type: ignore[union-attr]
    for name in ("article_id", "base_version", "status", "title", "owner", "review_by", "audience", "tags"):
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page.text)
        form[name] = html.unescape(m.group(1)) if m else ""
    for name in ("aliases", "questions", "body"):
        m = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>\n?(.*?)</textarea>', page.text, re.S)
        form[name] = html.unescape(m.group(1)) if m else ""
    form.update(changes)
    return c.post("/console/articles/save", data=form)


def test_trainer_edits_sees_the_lint_line_fixes_publishes_and_the_bot_answers_from_it(
        stack: ConsoleStack, page: Any, login: Any, screenshot: Any, tmp_path: Path) -> None:
    from knowledge_base import drafts
    from knowledge_base.article_file import compose, form_from_text
    from knowledge_base.ratings import record_rating

    before = text_of(stack, "network/vpn")
    replies = [ask(stack, ZEBRA_Q), ask(stack, "How do I connect to the VPN from home?")]
    assert "vpn-zebra" not in said(replies[0])
    views = sum(1 for r in replies if r.outcome.value == "answered" and r.sources[0].article_id == "network/vpn")
    with stack.db.session() as s:  # employees' ratings: two not helpful, one helpful
        for helpful, who in ((False, "a"), (False, "b"), (True, "c")):
            record_rating(s, question="vpn from home", article_id="network/vpn", helpful=helpful, user_key=who)
    wifi = text_of(stack, "network/wifi")  # a review date that has passed
    drafts.publish(stack.services.kb, path=wifi["path"], base_version=wifi["version"],
                   text=re.sub(r"(?m)^review_by: .*$", "review_by: 2020-01-31", wifi["text"]))
    login(page, TRAINER, stack)
    page.goto(stack.url("/console/articles"))
    row = page.locator('tr[data-article="network/vpn"]')
    assert row.locator(".ar-views").inner_text() == str(views) and views >= 1
    assert (row.locator(".ar-helpful").inner_text(), row.locator(".ar-not-helpful").inner_text()) == ("1", "2")
    assert "overdue" in page.locator('tr[data-article="network/wifi"] .ar-overdue').inner_text()
    assert page.locator('tr[data-article="network/vpn"] .ar-overdue').count() == 0
    screenshot(page, "articles-list")
    page.get_by_label("Search title, id, owner or tag").fill("vpn")
    page.get_by_role("button", name="Filter").click()
    ids = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.article)")
    assert "network/vpn" in ids and "help/printing" not in ids
    page.locator('tr[data-article="network/vpn"] a').click()
    page.wait_for_selector("#ar-form")
    screenshot(page, "article-editor")

    # bad front matter: the error names the file line, exactly as `helpdesk kb lint` / `kb import` report it
    page.get_by_label("Review by").fill("next spring")
    page.get_by_role("button", name="Check").click()
    expected_form = form_from_text(before["text"], before["path"])
    expected_form.review_by = "next spring"
    bad_text = compose(expected_form, before["text"], before["path"])
    line = next(n for n, t in enumerate(bad_text.splitlines(), 1) if t.startswith("review_by:"))
    problem = page.locator("#ar-problems li.ar-error").inner_text()
    assert f"network/vpn.md:{line}: 'review_by' must be a date like 2026-06-30, not 'next spring'." in problem

    # fix it, add a section; the live preview renders it (server-side, raw HTML escaped)
    page.get_by_label("Review by").fill("2031-03-31")
    body = page.get_by_label("Body (Markdown)")
    body.fill(body.input_value() + ZEBRA + "\n<script>alert(1)</script>\n")
    page.wait_for_selector("#ar-preview h3:has-text('Zebrafish gateway')")  # ## is h3 under the page's h1
    assert page.locator("#ar-preview script").count() == 0
    assert "<script>alert(1)</script>" in page.locator("#ar-preview").inner_text()
    assert page.locator("#ar-problems li.ar-error").count() == 0
    body.fill(body.input_value().replace("\n<script>alert(1)</script>\n", ""))
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_selector(".flash-ok")
    assert "Published as version" in page.locator(".flash-ok").inner_text()

    # the bot answers from the new version at once
    reply = ask(stack, ZEBRA_Q)
    assert reply.sources and reply.sources[0].article_id == "network/vpn"
    assert "vpn-zebra.example.com" in said(reply)

    # the stored text is the composed file; `kb export` writes it byte for byte; re-import changes nothing
    after = text_of(stack, "network/vpn")
    expected_form.review_by = "2031-03-31"
    expected_form.body = expected_form.body + ZEBRA
    assert after["text"] == compose(expected_form, before["text"], before["path"])
    assert after["version"] == before["version"] + 1
    stack.services.kb.export(tmp_path)
    assert (tmp_path / "network" / "vpn.md").read_bytes() == after["text"].encode("utf-8")
    summary = stack.services.kb.import_dir(tmp_path)
    assert summary.changed == [] and summary.retired == [] and "network/vpn" in summary.unchanged
    assert text_of(stack, "network/vpn")["version"] == after["version"]

    # the difference between the two versions, as a table readers (and screen readers) can follow
    page.goto(stack.url(f"/console/articles/diff/network/vpn?a={before['version']}&b={after['version']}"))
    added = page.locator("#ar-diff tr.ar-added").all_inner_texts()
    removed = page.locator("#ar-diff tr.ar-removed").all_inner_texts()
    assert any("vpn-zebra.example.com" in row and "added" in row for row in added)
    assert any("review_by: 2031-03-31" in row for row in added)
    assert any("review_by:" in row and "removed" in row for row in removed)
    assert not any("vpn-zebra" in row for row in removed)


def test_a_draft_is_never_served_and_publishing_it_is(stack: ConsoleStack) -> None:
    c = client(stack)
    try:
        old = text_of(stack, "help/printing")
        marker = "\n## Okapi toner\n\nOkapi toner cartridges are in the cupboard beside room 4.12.\n"
        saved = post_editor(c, "help/printing", action="draft", body=old["text"].split("---\n", 2)[2] + marker)
        assert saved.status_code == 303
        assert "unpublished changes" in c.get("/console/articles?q=printing").text
        question = "where are the okapi toner cartridges?"
        assert "room 4.12" not in said(ask(stack, question))
        assert "okapi" not in " ".join(h.info.id + h.best.text for h in stack.services.kb.search(question).hits).lower()
        assert text_of(stack, "help/printing")["text"] == old["text"]  # what export writes: unchanged
        # a new article saved as a draft is neither searchable nor exported
        new = c.get("/console/articles/new?question=where+do+I+find+the+okapi+room")
        assert "where do I find the okapi room" in new.text
        token = CSRF.search(new.text).group(1)  # type: ignore[union-attr]
        made = c.post("/console/articles/save", data={
            "csrf_token": token, "action": "draft", "path": "help/okapi-room.md", "title": "The okapi room",
            "owner": "facilities@example.com", "body": "\n# The okapi room\n\n## Where\n\nThe okapi room is 4.12.\n"})
        assert made.status_code == 303
        rows = c.get("/console/articles?state=draft").text
        assert 'data-article="help/okapi-room"' in rows
        assert all(h.info.id != "help/okapi-room" for h in stack.services.kb.search("the okapi room").hits)
        # publishing the printing draft makes it the answer
        editor = c.get("/console/articles/edit/help/printing").text
        assert "Unpublished draft" in editor and "Okapi toner" in editor
        published = post_editor(c, "help/printing", action="publish")
        assert published.status_code == 303
        assert "room 4.12" in said(ask(stack, question))
        assert "unpublished changes" not in c.get("/console/articles?q=printing").text
        # and the new article, once published, is searchable at once
        assert post_editor(c, "help/okapi-room", action="publish").status_code == 303
        assert stack.services.kb.search("where is the okapi room?").hits[0].info.id == "help/okapi-room"
        assert text_of(stack, "help/okapi-room")["version"] == 1
    finally:
        c.close()


def test_retire_takes_an_article_out_of_answers_and_restore_brings_it_back(stack: ConsoleStack) -> None:
    question = "how do I return my laptop when I leave?"
    first = ask(stack, question)
    assert first.sources and first.sources[0].article_id == "hardware/laptop-return"
    c = client(stack)
    try:
        token = CSRF.search(c.get("/console/articles/edit/hardware/laptop-return").text).group(1)  # type: ignore[union-attr]
        assert c.post("/console/articles/state/hardware/laptop-return",
                      data={"csrf_token": token, "action": "retire"}).status_code == 303
        assert all(s.article_id != "hardware/laptop-return" for s in ask(stack, question).sources)
        assert 'data-article="hardware/laptop-return"' in c.get("/console/articles?state=retired").text
        assert c.post("/console/articles/state/hardware/laptop-return",
                      data={"csrf_token": token, "action": "restore"}).status_code == 303
        again = ask(stack, question)
        assert again.sources and again.sources[0].article_id == "hardware/laptop-return"
        history = c.get("/console/articles/history/hardware/laptop-return").text
        assert "retired" in history and "restored" in history
    finally:
        c.close()


def test_publishing_over_a_newer_version_is_refused_and_the_text_is_kept(stack: ConsoleStack) -> None:
    c = client(stack)
    try:
        current = text_of(stack, "email/mailbox")
        stale = post_editor(c, "email/mailbox", action="publish", owner="someone-new@example.com",
                            base_version=str(current["version"] - 1 if current["version"] > 1 else 99))
        assert stale.status_code == 400 and "changed since you opened it" in stale.text
        assert text_of(stack, "email/mailbox")["version"] == current["version"]
        assert 'value="publish-force"' in stale.text  # "Publish anyway", after comparing
        editor = c.get("/console/articles/edit/email/mailbox").text
        assert "Unpublished draft" in editor and "someone-new@example.com" in editor
        post_editor(c, "email/mailbox", action="discard")
        assert "Unpublished draft" not in c.get("/console/articles/edit/email/mailbox").text
        forced = post_editor(c, "email/mailbox", action="publish-force", owner="someone-new@example.com",
                             base_version="99")
        assert forced.status_code == 303
        assert text_of(stack, "email/mailbox")["owner"] == "someone-new@example.com"
        assert text_of(stack, "email/mailbox")["version"] == current["version"] + 1
    finally:
        c.close()


def test_it_staff_cannot_edit_and_a_post_without_the_csrf_token_is_refused(stack: ConsoleStack) -> None:
    staff = client(stack, STAFF)
    trainer = client(stack)
    try:
        assert staff.get("/console/articles").status_code == 403
        refused = trainer.post("/console/articles/state/help/printing", data={"action": "retire"})
        assert refused.status_code == 403
        assert not text_of(stack, "help/printing")["retired"]
    finally:
        staff.close()
        trainer.close()


def test_unpublish_takes_it_out_of_answers_until_it_is_published_again(stack: ConsoleStack) -> None:
    question = "the meeting room screen doesn't work"
    assert ask(stack, question).sources[0].article_id == "collaboration/meetings"
    c = client(stack)
    try:
        token = CSRF.search(c.get("/console/articles/edit/collaboration/meetings").text).group(1)  # type: ignore[union-attr]
        assert c.post("/console/articles/state/collaboration/meetings",
                      data={"csrf_token": token, "action": "unpublish"}).status_code == 303
        stored = text_of(stack, "collaboration/meetings")
        assert stored["status"] == "draft" and "\nstatus: draft\n" in stored["text"]
        assert all(s.article_id != "collaboration/meetings" for s in ask(stack, question).sources)
        assert 'data-article="collaboration/meetings"' in c.get("/console/articles?state=draft").text
        assert post_editor(c, "collaboration/meetings", action="publish").status_code == 303
        assert text_of(stack, "collaboration/meetings")["status"] == "published"
        assert ask(stack, question).sources[0].article_id == "collaboration/meetings"
    finally:
        c.close()
