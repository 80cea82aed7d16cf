"""Trainers edit intents in the console: examples added, moved and removed in the Rasa files (which stay valid and
keep their formatting), each edit undone once from the page, validation problems with file:line, retrain with
progress, the evaluation report's plots."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from html import unescape
from pathlib import Path

import httpx
import pytest

from tests.console.conftest import NOBODY, STAFF, TRAINER, ConsoleStack, build_console_stack, sign_in
from tests.intent_samples import write_small_intents

slow = pytest.mark.slow  # serves the bot (real encoder) and drives Chromium

@pytest.fixture(scope="module")
def nlu_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    """The console over its own copy of a small intent data set (the tests write to it)."""
    tmp = tmp_path_factory.mktemp("intents-console")
    data = write_small_intents(tmp / "data")
    with build_console_stack(tmp, import_kb=False, sections={"paths": {"data_dir": str(data)}}) as stack:
        yield stack


def intents_folder(stack: ConsoleStack) -> Path:
    return Path(stack.settings.paths.data_dir) / "intents"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def flashes(html: str) -> list[tuple[str, str]]:
    return [(kind, unescape(text)) for kind, text in re.findall(r'class="flash flash-(\w+)">([^<]*)<', html)]


def post(client: httpx.Client, path: str, **form: str) -> httpx.Response:
    """A form post with the page's CSRF token; follows the redirect to the page it lands on."""
    page = client.get("/console/intents")
    sent = client.post(path, data={"csrf_token": csrf(page.text), **form})
    assert sent.status_code == 303, sent.text
    return client.get(sent.headers["location"])


@slow
def test_examples_add_move_remove_round_trip_keeps_the_files_valid(nlu_stack: ConsoleStack) -> None:
    from intents.data import load_training_data

    folder = intents_folder(nlu_stack)
    before = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.yml")}
    with closing(nlu_stack.client(TRAINER)) as client:
        shown = post(client, "/console/intents/intent/printer_issue/add",
                     examples="the printer on floor 3 prints blank pages\nprinter jammed")
        assert ("ok", "Added 1 example(s) (1 already there).") in flashes(shown.text)
        assert "the printer on floor 3 prints blank pages" in shown.text
        assert "# Knowledge questions" in (folder / "it.yml").read_text()  # comments survive
        data = load_training_data(folder)
        (added,) = [e for e in data.examples if e.text == "the printer on floor 3 prints blank pages"]
        assert added.intent == "printer_issue" and added.path.endswith("it.yml")

        # the same text under another intent is refused, naming where it already is
        refused = post(client, "/console/intents/intent/vpn_issue/add", examples="printer jammed")
        assert any(kind == "error" and "already an example of intent 'printer_issue'" in text
                   for kind, text in flashes(refused.text))

        moved = post(client, "/console/intents/intent/printer_issue/move", file="it.yml", line=str(added.line),
                     text=added.text, to="vpn_issue")
        assert ("ok", "Moved “the printer on floor 3 prints blank pages” to intent vpn_issue.") in flashes(moved.text)
        data = load_training_data(folder)
        (now,) = [e for e in data.examples if e.text == added.text]
        assert now.intent == "vpn_issue"

        # a stale page (wrong line) cannot remove the wrong example
        stale = post(client, "/console/intents/intent/vpn_issue/remove", file="it.yml", line="1", text=now.text)
        assert any(kind == "error" and "no longer at" in text for kind, text in flashes(stale.text))
        removed = post(client, "/console/intents/intent/vpn_issue/remove", file="it.yml", line=str(now.line),
                       text=now.text)
        assert ("ok", f"Removed “{now.text}”.") in flashes(removed.text)
    after = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.yml")}
    assert after == before  # added, moved, removed: the files are byte for byte what they were
    from bot.console.models import ConsoleAction

    with nlu_stack.db.session() as s:
        logged = [(a.actor, a.action, a.target) for a in s.query(ConsoleAction).filter(
            ConsoleAction.action.startswith("intents."))]
    assert (TRAINER, "intents.add", "intent/printer_issue") in logged
    assert (TRAINER, "intents.move", "intent/printer_issue") in logged
    assert (TRAINER, "intents.remove", "intent/vpn_issue") in logged


@slow
def test_a_validation_problem_shows_its_file_and_line(nlu_stack: ConsoleStack) -> None:
    broken = intents_folder(nlu_stack) / "zz_broken.yml"
    broken.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello there\n    oops no dash\n',
                      encoding="utf-8")
    try:
        with closing(nlu_stack.client(TRAINER)) as client:
            page = client.get("/console/intents")
        assert page.status_code == 200
        assert re.search(r'<code class="loc">zz_broken\.yml:6</code>\s*examples must be lines starting with', page.text)
    finally:
        broken.unlink()
    with closing(nlu_stack.client(TRAINER)) as client:
        assert 'id="no-problems"' in client.get("/console/intents").text


@slow
def test_only_trainers_see_the_intents_pages(nlu_stack: ConsoleStack) -> None:
    with closing(nlu_stack.client(STAFF)) as staff, closing(nlu_stack.client(NOBODY)) as nobody, \
            closing(nlu_stack.client()) as anon:
        for client in (staff, nobody):
            assert client.get("/console/intents").status_code == 403
            assert client.get("/console/intents/report/intent_f1.png").status_code == 403
            assert client.get("/console/intents/retrain/status").status_code == 403
        assert anon.get("/console/intents/report/intent_f1.png").status_code == 303  # to sign-in
        assert anon.post("/console/intents/retrain").status_code in (401, 403)


def undo_ids(html: str) -> list[int]:
    """The edits the page offers to undo, newest first."""
    return [int(n) for n in re.findall(r'action="/console/intents/edits/(\d+)/undo"', html)]


@slow
def test_an_edit_is_undone_from_the_page_once_by_a_trainer_with_the_token(nlu_stack: ConsoleStack) -> None:
    from bot.console.models import ConsoleAction
    from intents.data import load_training_data

    folder = intents_folder(nlu_stack)
    before = (folder / "it.yml").read_text(encoding="utf-8")
    (slow_vpn,) = [e for e in load_training_data(folder).examples if e.text == "vpn is slow"]
    with closing(nlu_stack.client(TRAINER)) as client, closing(nlu_stack.client(STAFF)) as staff:
        shown = post(client, "/console/intents/intent/vpn_issue/remove", file="it.yml", line=str(slow_vpn.line),
                     text=slow_vpn.text)
        what = f"removed “vpn is slow” from vpn_issue (it.yml:{slow_vpn.line})"
        assert what in unescape(shown.text)  # the intent page lists its recent edits
        entry = undo_ids(shown.text)[0]
        assert "vpn is slow" not in (folder / "it.yml").read_text(encoding="utf-8")

        assert client.post(f"/console/intents/edits/{entry}/undo").status_code == 403  # no CSRF token
        token = csrf(staff.get("/console", follow_redirects=True).text)  # their own session's token
        assert staff.post(f"/console/intents/edits/{entry}/undo", data={"csrf_token": token}).status_code == 403

        undone = post(client, f"/console/intents/edits/{entry}/undo", back="/console/intents/intent/vpn_issue")
        assert ("ok", f"Undone: {what}. Retrain on the Intents page to use the change.") in flashes(undone.text)
        assert (folder / "it.yml").read_text(encoding="utf-8") == before
        assert re.search(r"undone by trainer@example\.com, 20[\d-]+ [\d:]+", undone.text)
        assert entry not in undo_ids(undone.text)

        again = post(client, f"/console/intents/edits/{entry}/undo", back="https://elsewhere.example/")
        assert str(again.url).endswith("/console/intents")  # back only to an intents page
        assert any(kind == "error" and text.startswith("That edit was already undone by trainer@example.com")
                   for kind, text in flashes(again.text))

        # an edit whose example changed since is refused, naming where it is now
        added = post(client, "/console/intents/intent/printer_issue/add", examples="the toner is empty")
        add_entry = undo_ids(added.text)[0]
        (toner,) = [e for e in load_training_data(folder).examples if e.text == "the toner is empty"]
        post(client, "/console/intents/intent/printer_issue/move", file="it.yml", line=str(toner.line),
             text=toner.text, to="vpn_issue")
        (moved,) = [e for e in load_training_data(folder).examples if e.text == "the toner is empty"]
        refused = post(client, f"/console/intents/edits/{add_entry}/undo")
        assert ("error", f"it.yml:{moved.line}: “the toner is empty” was moved to intent vpn_issue since, so this "
                "edit cannot be undone; undo or reverse that move first.") in flashes(refused.text)
        post(client, f"/console/intents/edits/{undo_ids(refused.text)[0]}/undo")  # undo the move, then the add
        post(client, f"/console/intents/edits/{add_entry}/undo")
    assert (folder / "it.yml").read_text(encoding="utf-8") == before
    with nlu_stack.db.session() as s:
        undos = [a.details["edit_id"] for a in s.query(ConsoleAction).filter(ConsoleAction.action == "intents.undo")]
    assert entry in undos and add_entry in undos and len(undos) == len(set(undos)) == 3


@slow
def test_a_removed_example_comes_back_with_the_undo_button(nlu_stack: ConsoleStack, page, screenshot) -> None:
    from intents.data import load_training_data

    folder = intents_folder(nlu_stack)
    before = (folder / "smalltalk.yml").read_text(encoding="utf-8")
    (ex,) = [e for e in load_training_data(folder).examples if e.text == "hello bot"]
    what = f"removed “hello bot” from greet (smalltalk.yml:{ex.line})"
    sign_in(nlu_stack, page, TRAINER)
    page.goto(nlu_stack.url("/console/intents/intent/greet"))
    page.once("dialog", lambda dialog: dialog.accept())  # "Remove this example?"
    page.get_by_role("button", name="Remove “hello bot”").click()
    page.get_by_text("Removed “hello bot”.").wait_for()
    undo = page.get_by_role("button", name=f"Undo: {what}")
    screenshot(page, "intents-edits")
    undo.click()
    page.get_by_text(f"Undone: {what}. Retrain on the Intents page to use the change.").wait_for()
    assert page.get_by_role("button", name="Remove “hello bot”").is_visible()  # back in the list, on this page
    assert page.get_by_text("undone by trainer@example.com").first.is_visible()
    assert (folder / "smalltalk.yml").read_text(encoding="utf-8") == before


class BlockingEncoder:
    """The real encoder, held at its next call until ``release`` (a retraining that is visibly running)."""

    def __init__(self, inner) -> None:
        self.inner, self.dim = inner, inner.dim
        self.entered, self.release = threading.Event(), threading.Event()

    def encode(self, texts, **kw):
        self.entered.set()
        assert self.release.wait(60), "the test never released the encoder"
        return self.inner.encode(texts, **kw)

    def encode_one(self, text):
        return self.encode([text])[0]


@slow
def test_retrain_shows_progress_to_done_swaps_the_model_and_serves_the_plots(nlu_stack: ConsoleStack, page,
                                                                             screenshot) -> None:
    services = nlu_stack.services
    before = services.nlu.model.meta.get("version")  # the parser in use (trained at first use)
    folder = intents_folder(nlu_stack)
    original = (folder / "smalltalk.yml").read_text(encoding="utf-8")
    real = services.encoder
    blocking = BlockingEncoder(real)  # holds the training until the page has shown it running
    services.__dict__["encoder"] = blocking
    try:
        sign_in(nlu_stack, page, TRAINER)
        page.goto(nlu_stack.url("/console/intents/intent/greet"))
        page.get_by_role("textbox", name="Examples").fill("good evening, bot")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_text("Added 1 example(s).").wait_for()
        page.goto(nlu_stack.url("/console/intents"))
        page.get_by_text("the examples or the rules changed since: retrain to use them").wait_for()
        page.get_by_role("button", name="Retrain").click()
        page.locator("progress#retrain-progress").wait_for()  # running: the bar, and Retrain disabled
        assert page.get_by_role("button", name="Retrain").is_disabled()
        screenshot(page, "intents-retraining")
        blocking.release.set()
        # the page polls the JSON status (static JS) and reloads itself when the run ends
        page.get_by_text("is in use").wait_for(timeout=120_000)
        status = page.request.get(nlu_stack.url("/console/intents/retrain/status")).json()
        assert status["state"] == "done" and status["percent"] == 100 and status["started_by"] == TRAINER
        assert services.nlu.model.meta.get("version") == status["version"] != before  # the new model is serving
        assert services.nlu.parse("good evening, bot").intent.name == "greet"
        assert page.get_by_text("up to date").is_visible()
        screenshot(page, "intents")

        page.get_by_role("link", name="Latest evaluation report").click()
        page.get_by_role("heading", name="F1 per intent").wait_for()
        for alt in ("cross-validated F1", "true intents against predicted", "correct and wrong predictions"):
            img = page.locator(f'img[alt*="{alt}"]')
            assert img.evaluate("i => i.complete && i.naturalWidth > 0"), alt  # served through the signed-in route
        png = page.request.get(nlu_stack.url("/console/intents/report/intent_confusion.png"))
        assert png.status == 200 and png.headers["content-type"] == "image/png" and png.body()[:4] == b"\x89PNG"
        assert page.request.get(nlu_stack.url("/console/intents/report/report.json")).status == 404
        screenshot(page, "intents-report")

        page.goto(nlu_stack.url("/console/intents"))
        page.get_by_role("link", name="printer_issue").click()
        page.get_by_role("heading", name="Intent printer_issue").wait_for()
        screenshot(page, "intents-examples")
    finally:
        blocking.release.set()
        services.__dict__["encoder"] = real
        (folder / "smalltalk.yml").write_text(original, encoding="utf-8")


@slow
def test_retraining_runs_off_the_event_loop_one_at_a_time(nlu_stack: ConsoleStack) -> None:
    """While the training thread is busy, the server answers (status: running) and a second start is refused."""
    services = nlu_stack.services
    real = services.encoder
    blocking = BlockingEncoder(real)
    services.__dict__["encoder"] = blocking
    folder = intents_folder(nlu_stack)
    original = (folder / "smalltalk.yml").read_text(encoding="utf-8")
    try:
        with closing(nlu_stack.client(TRAINER)) as client:
            post(client, "/console/intents/intent/greet/add", examples="good afternoon, bot")  # a text to encode
            token = csrf(client.get("/console/intents").text)
            assert client.post("/console/intents/retrain", data={"csrf_token": token}).status_code == 303
            assert blocking.entered.wait(60)
            status = client.get("/console/intents/retrain/status").json()
            assert status["state"] == "running" and status["phase"] == "Training the model"
            page = client.get("/console/intents")
            assert '<progress id="retrain-progress"' in page.text and "Retrain</button>" in page.text
            again = client.post("/console/intents/retrain", data={"csrf_token": csrf(page.text)})
            assert ("info", "A retraining is already running.") in flashes(client.get(again.headers["location"]).text)
            blocking.release.set()
            deadline = time.monotonic() + 120
            while client.get("/console/intents/retrain/status").json()["state"] == "running":
                assert time.monotonic() < deadline, "the retraining never finished"
                time.sleep(0.2)
            assert client.get("/console/intents/retrain/status").json()["state"] == "done"
    finally:
        blocking.release.set()
        services.__dict__["encoder"] = real
        (folder / "smalltalk.yml").write_text(original, encoding="utf-8")


# -- the libraries underneath (fast: no server, no encoder) --

def test_the_editor_refuses_what_it_cannot_write_safely(tmp_path: Path) -> None:
    from bot.errors import DataError
    from intents.editing import IntentsEditor

    folder = write_small_intents(tmp_path) / "intents"
    flow = folder / "zz_flow.yml"
    flow.write_text('version: "3.1"\nnlu:\n- intent: deny\n  examples: ["no", "nope", "no way", "not now", "never"]\n')
    before = {p.name: p.read_text() for p in folder.glob("*.yml")}
    editor = IntentsEditor(folder)
    with pytest.raises(DataError, match="not a '- example' list; edit the file by hand"):
        editor.add("deny", ["absolutely not"])
    with pytest.raises(DataError, match="entity 'device' .* is not defined"):
        editor.add("printer_issue", ["my [laptop](device) cannot print"])
    with pytest.raises(DataError, match="No intent 'nope'"):
        editor.add("nope", ["hello"])
    with pytest.raises(DataError, match="at most 300 characters"):
        editor.add("greet", ["hi " * 150])
    with pytest.raises(DataError, match="No training-data file '../secrets.yml'"):
        editor.remove("../secrets.yml", 1, "hello")
    assert {p.name: p.read_text() for p in folder.glob("*.yml")} == before  # nothing was touched


def test_a_moved_example_keeps_its_entity_annotation(tmp_path: Path) -> None:
    from intents.editing import IntentsEditor

    folder = write_small_intents(tmp_path) / "intents"
    (folder / "entities.yml").write_text('version: "3.1"\nnlu:\n- lookup: system\n  examples: |\n    - okta\n')
    editor = IntentsEditor(folder)
    assert editor.add("vpn_issue", ["[okta](system) asks for a code on the vpn"]).examples == [
        "okta asks for a code on the vpn"]
    (ex,) = [e for e in editor.view().examples["vpn_issue"] if e.text.startswith("okta")]
    editor.move("it.yml", ex.line or 0, ex.text, "printer_issue")
    assert "    - [okta](system) asks for a code on the vpn\n" in (folder / "it.yml").read_text()
    (moved,) = [e for e in editor.view().examples["printer_issue"] if e.text.startswith("okta")]
    assert [(a.entity, a.value) for a in moved.entities] == [("system", "okta")]


def test_a_retraining_on_data_with_problems_fails_naming_the_file_and_line(tmp_path: Path) -> None:
    from intents.factory import NluPaths
    from intents.settings import NluSettings
    from training.retrain import Retrainer

    data = write_small_intents(tmp_path / "data")
    (data / "intents" / "zz.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n'
                                             '    - yo\n    oops\n')
    def no_encoder():
        raise AssertionError("the data is checked before the encoder is loaded")

    job = Retrainer(NluSettings(), NluPaths(data, tmp_path / "models", tmp_path / "var"), no_encoder)
    assert job.start("trainer@example.com")
    job.join(30)
    status = job.status()
    assert status.state == "failed" and status.version is None
    assert "zz.yml:6: examples must be lines starting with '- '" in (status.error or "")
    assert not (tmp_path / "models").exists()  # nothing half-written
