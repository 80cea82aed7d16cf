"""Every serving process follows the newest saved intent model without a restart (``bot.nlu_reload``)."""

from __future__ import annotations

import logging
import shutil
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.nlu_reload import LiveParser
from intents.store import ModelStore
from tests.intent_samples import write_small_intents

THANKS = textwrap.dedent("""\
    - intent: thanks
      examples: |
        - thanks
        - thank you
        - thanks a lot
        - thank you so much
        - cheers, that helped
        - many thanks
        - thanks, that fixed it
    """)
THANKED = "thank you so much, that helped"


def corrupt_newer_version(models_dir: Path, model) -> str:
    """Save ``model`` as a new (latest) version, then break its weights file: a half-copied or damaged model."""
    version = ModelStore(models_dir).save(model)
    (models_dir / "nlu" / version / "weights.npz").write_bytes(b"not a numpy archive")
    return version


def test_a_model_trained_by_one_process_is_served_by_another_after_the_check_interval(
        make_settings, database_url, encoder, tmp_path, caplog) -> None:
    from bot.engine import Engine
    from bot.messages import Message
    from bot.services import Services
    from bot.storage import migrate
    from bot.storage.models import AnalyticsEvent
    from intents.factory import NluPaths, train_and_save

    data_dir = tmp_path / "data"
    write_small_intents(data_dir)
    settings = make_settings(database_url, paths={"data_dir": str(data_dir)}, nlu={"model_check_seconds": 0.2})
    trainer, server = Services(settings, encoder=encoder), Services(settings, encoder=encoder)
    migrate.prepare(trainer.db)
    try:
        assert server.nlu.parse(THANKED).intent.name != "thanks"  # auto-trained at first use, shared by both

        # a trainer adds an intent and retrains in another process (as `helpdesk train` does)
        (data_dir / "intents" / "thanks.yml").write_text('version: "3.1"\nnlu:\n' + THANKS, encoding="utf-8")
        paths = settings.paths
        model, version = train_and_save(settings.nlu, NluPaths(paths.data_dir, paths.models_dir, paths.var_dir),
                                        trainer.encoder)
        deadline = time.monotonic() + 30  # generous: a loaded CI machine, not a speed check
        while server.nlu.parse(THANKED).intent.name != "thanks":
            assert time.monotonic() < deadline, "the serving process never picked up the new model"
            time.sleep(0.05)
        assert server.nlu.status()["model_file"] == version
        engine = Engine(server)  # the serving process's turns: the employee is thanked back
        reply = engine.handle(Message(text=THANKED, user_key="terminal:ann"))
        assert reply.intent == "thanks" and "welcome" in reply.text.lower()
        with server.db.session() as session:  # what the analytics record is what the employee got
            stored = session.scalars(select(AnalyticsEvent.intent)
                                     .where(AnalyticsEvent.turn_id == reply.turn_id)).one()
        assert stored == "thanks"

        # a newer model that cannot be loaded: the good one keeps serving, one warning says why
        caplog.set_level(logging.WARNING, logger="bot.nlu_reload")
        broken = corrupt_newer_version(Path(paths.models_dir), model)
        deadline = time.monotonic() + 30  # generous: a loaded CI machine, not a speed check
        while "model_problem" not in server.nlu.status():
            assert time.monotonic() < deadline, "the broken model was never noticed"
            assert server.nlu.parse(THANKED).intent.name == "thanks"
            time.sleep(0.05)
        time.sleep(0.25)  # past another check interval
        assert engine.handle(Message(text=THANKED, user_key="terminal:ann")).intent == "thanks"
        assert server.nlu.status()["model_file"] == version
        # warnings only: the "now serving" line of the swap above is INFO, and is captured too when an earlier
        # test in this process left the logger at INFO
        warnings = [r.getMessage() for r in caplog.records
                    if r.name == "bot.nlu_reload" and r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and broken in warnings[0] and f"still serving model {version}" in warnings[0]
    finally:
        trainer.db.dispose()
        server.db.dispose()


class CountingStore(ModelStore):
    """The real store, counting the models it loads."""

    loads = 0

    def load(self, version: str | None = None):
        self.loads += 1
        return super().load(version)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served(trained_models, tmp_path):
    """A LiveParser over its own copy of the trained default model, checking every 30 s of a hand-moved clock."""
    models = tmp_path / "models"
    shutil.copytree(trained_models, models)
    store = CountingStore(models)
    clock = Clock()
    parser = LiveParser(ModelStore(models).load(), lambda: pytest.fail("the test passes embeddings"),
                        store=store, check_seconds=30, clock=clock)
    return parser, store, clock


def parse(parser: LiveParser, encoder, text: str = "my vpn keeps dropping") -> str:
    return parser.parse(text, embedding=encoder.encode_one(text)).intent.name


def test_a_newer_model_is_used_from_the_first_turn_after_the_interval_and_nothing_is_loaded_otherwise(
        served, encoder, default_model) -> None:
    parser, store, clock = served
    first = parser.status()["model_file"]
    for _ in range(5):  # nothing changed: the pointer is read, no model is loaded
        clock.now += 31
        assert parse(parser, encoder) == "vpn_issue"
    assert store.loads == 0

    newer = ModelStore(store.root.parent).save(default_model)
    clock.now += 29
    parse(parser, encoder)
    assert parser.status()["model_file"] == first  # not checked yet
    clock.now += 1
    assert parse(parser, encoder) == "vpn_issue"
    assert parser.status()["model_file"] == newer and store.loads == 1
    for _ in range(3):
        clock.now += 31
        parse(parser, encoder)
    assert store.loads == 1


def test_an_unloadable_newer_model_is_skipped_once_and_a_good_one_after_it_is_taken(
        served, encoder, default_model, caplog) -> None:
    parser, store, clock = served
    first = parser.status()["model_file"]
    broken = corrupt_newer_version(store.root.parent, default_model)
    caplog.set_level(logging.WARNING, logger="bot.nlu_reload")
    for _ in range(3):
        clock.now += 31
        assert parse(parser, encoder) == "vpn_issue"
    assert parser.status()["model_file"] == first and store.loads == 1  # tried once, not on every check
    problem = parser.status()["model_problem"]
    assert broken in problem and "weights.npz" in problem and f"still serving model {first}" in problem
    assert [r.levelname for r in caplog.records if r.name == "bot.nlu_reload"] == ["WARNING"]

    good = ModelStore(store.root.parent).save(default_model)
    clock.now += 31
    parse(parser, encoder)
    assert parser.status()["model_file"] == good and "model_problem" not in parser.status()


def test_a_model_swapped_in_by_this_process_is_not_loaded_again(served, encoder, default_model) -> None:
    parser, store, clock = served
    newer = ModelStore(store.root.parent).save(default_model)  # the console retrainer saves, then swaps
    parser.model = default_model
    clock.now += 31
    parse(parser, encoder)
    assert parser.status()["model_file"] == newer and store.loads == 0


def test_a_zero_interval_never_looks(served, encoder, default_model) -> None:
    parser, store, clock = served
    off = LiveParser(parser.model, lambda: encoder, store=store, check_seconds=0, clock=clock)
    ModelStore(store.root.parent).save(default_model)
    clock.now += 10_000
    parse(off, encoder)
    assert store.loads == 0 and off.status()["model_file"] == parser.status()["model_file"]


def test_the_interval_is_a_setting_with_a_30_second_default(make_settings, sqlite_url, tmp_path) -> None:
    from bot.config import load_settings
    from bot.errors import ConfigError

    assert make_settings(sqlite_url).nlu.model_check_seconds == 30
    config = tmp_path / "helpdesk.toml"
    config.write_text("[nlu]\nmodel_check_seconds = 5\n", encoding="utf-8")
    assert load_settings(config, environ={}).nlu.model_check_seconds == 5
    assert load_settings(config, environ={"HELPDESK_NLU__MODEL_CHECK_SECONDS": "0.5"}).nlu.model_check_seconds == 0.5
    with pytest.raises(ConfigError, match="model_check_seconds"):
        make_settings(sqlite_url, nlu={"model_check_seconds": -1})


def test_config_check_warns_when_the_newest_saved_model_cannot_be_loaded(nlu_settings, default_model) -> None:
    from bot.health import check_configuration

    settings = nlu_settings()
    broken = corrupt_newer_version(Path(settings.paths.models_dir), default_model)
    row = next(i for i in check_configuration(settings)["integrations"] if i["name"] == "nlu")
    assert row["status"] == "warning"
    assert f"{broken}/weights.npz" in row["details"] and "run `helpdesk train`" in row["details"]
