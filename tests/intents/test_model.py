"""The trained classifier: understands employees, declines the off-topic, persists faithfully."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from intents.api import OUT_OF_SCOPE
from intents.store import ModelStore

pytestmark = pytest.mark.slow

# Unseen phrasings (not in data/intents) an employee might type.
IN_SCOPE = {
    "hey, good morning!": "greet",
    "i've forgotten my password, can you reset it": "password_reset",
    "my account got locked after too many tries": "account_unlock",
    "what's the status of IT-991?": "ticket_status",
    "the vpn won't connect from my home office": "vpn_issue",
    "printer on the third floor is jammed again": "printer_issue",
    "I need someone from IT to call me, a real person": "talk_to_human",
    "I received an email asking for my password, looks like a scam": "phishing_report",
    "thanks so much, that solved it": "thanks",
}
OFF_TOPIC = [
    "what's the weather going to be in paris tomorrow",
    "tell me a funny joke about cats",
    "who won the football match yesterday",
    "what's a good recipe for banana bread",
]


def test_understands_unseen_employee_messages(default_model, encoder):
    texts = list(IN_SCOPE)
    results = default_model.parse_many(texts, encoder.encode(texts))
    got = {r.text: r.intent.name for r in results}
    assert got == IN_SCOPE
    assert all(not r.out_of_scope for r in results)


def test_out_of_scope_messages_are_declined(default_model, encoder):
    results = default_model.parse_many(OFF_TOPIC, encoder.encode(OFF_TOPIC))
    for r in results:
        assert r.out_of_scope, (r.text, r.intent)
        assert r.intent.name == OUT_OF_SCOPE
        assert r.to_rasa()["intent"]["name"] == OUT_OF_SCOPE


def test_rasa_shape_and_ranking(default_model, encoder):
    text = "vpn down, need it fixed asap"
    result = default_model.parse_one(text, encoder.encode_one(text))
    body = result.to_rasa()
    assert set(body) == {"text", "intent", "intent_ranking", "entities"}
    assert body["intent"]["name"] == "vpn_issue"
    ranking = [r["confidence"] for r in body["intent_ranking"]]
    assert ranking == sorted(ranking, reverse=True) and len(ranking) == 10
    assert body["intent_ranking"][0] == body["intent"]
    assert [(e["entity"], e["value"], text[e["start"]:e["end"]]) for e in body["entities"]] == [
        ("system", "vpn", "vpn"), ("urgency", "high", "asap")]
    json.dumps(body)  # plain JSON types only


def test_persist_and_load_gives_identical_predictions(default_model, encoder, tmp_path):
    texts = list(IN_SCOPE) + OFF_TOPIC + ["printer", "ok", "IT-5", "can't get my email on my new iphone"]
    X = encoder.encode(texts)
    before = default_model.parse_many(texts, X)
    store = ModelStore(tmp_path)
    version = store.save(default_model)
    weights = tmp_path / "nlu" / version / "weights.npz"
    with np.load(weights, allow_pickle=False) as npz:  # loads without pickle
        assert all(npz[k].dtype != object for k in npz.files)
    after = ModelStore(tmp_path).load().parse_many(texts, X)
    assert [r.to_rasa() for r in after] == [r.to_rasa() for r in before]
    assert [r.out_of_scope for r in after] == [r.out_of_scope for r in before]


def test_a_copy_still_being_written_is_never_a_version(default_model, tmp_path):
    """A save's or a replica's seed copy under a hidden name (a shared models volume) is neither listed nor
    served, even when it already holds a model.json."""
    store = ModelStore(tmp_path)
    first, second = store.save(default_model), store.save(default_model)
    half = tmp_path / "nlu" / f".{second}Z.seed.pod-2.1"
    half.mkdir()
    (half / "model.json").write_text("{}")
    assert store.versions() == [first, second] and store.latest_version() == second
    assert not [p for p in (tmp_path / "nlu").iterdir() if ".tmp." in p.name]  # nothing left behind


def test_a_confident_message_far_from_every_intent_is_declined(default_model, encoder):
    text = "printer on the third floor is jammed again"
    near = encoder.encode_one(text)
    far = 4 * near  # lies far from every intent, and the linear classifier only grows more confident
    probs = default_model.classifier.predict_proba(np.stack([near, far]), [text, text])
    assert probs[1].max() > probs[0].max() > 0.5
    near_result, far_result = default_model.parse_many([text, text], np.stack([near, far]))
    assert near_result.intent.name == "printer_issue" and not near_result.out_of_scope
    assert far_result.out_of_scope and far_result.intent.name == OUT_OF_SCOPE


def test_a_model_saved_before_the_distance_check_loads_and_decides_as_before(default_model, encoder, tmp_path):
    from intents.scope import scope_scores

    store = ModelStore(tmp_path)
    folder = tmp_path / "nlu" / store.save(default_model)
    meta = json.loads((folder / "model.json").read_text())
    assert meta["max_distance"] > 0
    del meta["max_distance"]  # the files as the bot wrote them before: no maximum distance, no distance arrays
    (folder / "model.json").write_text(json.dumps(meta))
    with np.load(folder / "weights.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if not k.startswith("distance_")}
        assert len(arrays) < len(npz.files)
    np.savez(folder / "weights.npz", **arrays)

    old = ModelStore(tmp_path).load()
    assert old.distance is None and old.operating_point.max_distance is None
    texts = list(IN_SCOPE) + OFF_TOPIC + ["printer", "ok"]
    X = np.vstack([encoder.encode(texts), 4 * encoder.encode_one(texts[0])])
    texts.append(texts[0])
    results = old.parse_many(texts, X)
    # the rule as it was: out of scope when the in-scope score is below the threshold, nothing else
    score = scope_scores(old.classifier.predict_proba(X, texts), old.classifier.classes).score
    assert [r.out_of_scope for r in results] == (score < old.oos_threshold).tolist()
    assert not results[-1].out_of_scope  # the far-away message the distance check declines


def test_parse_reuses_a_passed_embedding(nlu_settings, encoder):
    from tests.intents.conftest import parser_for

    calls = []

    def provider():
        calls.append(1)
        return encoder

    parser = parser_for(nlu_settings(), provider)
    shared = encoder.encode_one("my printer is jammed")
    result = parser.parse("my printer is jammed", embedding=shared)
    assert calls == [] and result.intent.name == "printer_issue"
    assert parser.parse("my printer is jammed").intent.name == "printer_issue"
    assert calls, "without an embedding the parser encodes the text itself"
    batch = parser.parse_batch(["hi", "reset my password"])
    assert [r.intent.name for r in batch] == ["greet", "password_reset"]


def test_the_parser_trains_when_missing_and_retrains_when_data_changes(
        make_settings, sqlite_url, tmp_path, encoder, caplog, seed_embedding_cache):
    from tests.intents.conftest import parser_for

    data_dir = tmp_path / "data"
    shutil.copytree(DEFAULT_INTENTS_DIR(), data_dir / "intents")
    settings = make_settings(sqlite_url, paths={"data_dir": str(data_dir)})
    seed_embedding_cache(settings)
    store = ModelStore(settings.paths.models_dir)
    with caplog.at_level(logging.WARNING, logger="intents.factory"):
        parser = parser_for(settings, lambda: encoder)
    assert "no trained intent model yet" in caplog.text
    first = store.versions()
    assert len(first) == 1 and parser.parse("hello").intent.name == "greet"

    caplog.clear()
    parser_for(settings, lambda: encoder)  # unchanged data: loads, no training
    assert store.versions() == first
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []  # INFO may be on

    smalltalk = data_dir / "intents" / "smalltalk.yml"
    smalltalk.write_text(smalltalk.read_text() + "    - top of the morning to ya\n")
    with caplog.at_level(logging.WARNING, logger="intents.factory"):
        parser_for(settings, lambda: encoder)
    assert "training data changed" in caplog.text  # factory.STALE
    assert len(store.versions()) == 2


def test_a_model_trained_under_an_older_out_of_scope_rule_is_stale(nlu_settings, monkeypatch):
    """A new rule reaches saved models the way new data does: `nlu status`, config check and auto-train see it."""
    from bot.health import check_configuration
    from intents import scope
    from intents.factory import STALE, NluPaths, model_status

    settings = nlu_settings()
    paths = NluPaths(settings.paths.data_dir, settings.paths.models_dir, settings.paths.var_dir)
    assert model_status(settings.nlu, paths)["stale"] is False
    monkeypatch.setattr(scope, "RULE_VERSION", scope.RULE_VERSION + 1)
    assert model_status(settings.nlu, paths)["stale"] is True
    [nlu] = [i for i in check_configuration(settings)["integrations"] if i["name"] == "nlu"]
    assert nlu["status"] == "warning" and STALE in nlu["details"]


def test_stale_model_is_kept_with_a_warning_when_auto_train_is_off(nlu_settings, tmp_path, encoder,
                                                                  caplog):
    from tests.intents.conftest import parser_for

    data_dir = tmp_path / "data2"
    shutil.copytree(DEFAULT_INTENTS_DIR(), data_dir / "intents")
    (data_dir / "intents" / "extra.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - ahoy there\n')
    settings = nlu_settings(paths={"data_dir": str(data_dir)}, nlu={"auto_train": False})
    with caplog.at_level(logging.WARNING, logger="intents.factory"):
        parser = parser_for(settings, lambda: encoder)
    assert "run `helpdesk train`" in caplog.text
    assert len(ModelStore(settings.paths.models_dir).versions()) == 1
    assert parser.parse("hello").intent.name == "greet"


def DEFAULT_INTENTS_DIR():
    from tests.intents.conftest import DEFAULT_INTENTS

    return DEFAULT_INTENTS
