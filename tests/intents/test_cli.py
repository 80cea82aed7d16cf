"""`helpdesk train`, `helpdesk nlu test|benchmark|validate|parse` as an operator runs them."""

from __future__ import annotations

import json
import random
import shutil

import pytest
from typer.testing import CliRunner

from tests.intents.conftest import DEFAULT_INTENTS, write

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(tmp_path, trained_models):
    """Run the helpdesk CLI with a config file whose paths live in tmp_path."""
    from bot.cli import app

    data_dir = tmp_path / "data"
    shutil.copytree(DEFAULT_INTENTS, data_dir / "intents")
    cache = tmp_path / "var" / "cache" / "nlu-embeddings.npz"
    cache.parent.mkdir(parents=True)
    shutil.copy(trained_models.parent / "emb.npz", cache)
    config = write(tmp_path / "helpdesk.toml", f'''
[database]
url = "sqlite:///{tmp_path / 'helpdesk.db'}"
[paths]
data_dir = "{data_dir}"
models_dir = "{tmp_path / 'models'}"
var_dir = "{tmp_path / 'var'}"
''')
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["--config", str(config), *args], catch_exceptions=False)

    run.data_dir = data_dir
    run.tmp = tmp_path
    return run


def stdout_json(result):
    """The command's JSON document (logs and progress bars go to stderr)."""
    return json.loads(result.stdout)


def test_train_refuses_bad_data_naming_file_and_line(cli):
    (cli.data_dir / "intents" / "broken.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: goodbye\n  examples: |\n    - hello\n    - good morning\n')
    result = cli("train")
    assert result.exit_code == 1
    out = result.output
    assert "broken.yml:5" in out and "listed under intent 'greet' and also" in out
    assert "Traceback" not in out
    assert not (cli.tmp / "models" / "nlu").exists()


def test_train_writes_a_versioned_model_and_status_reports_staleness(cli):
    result = cli("train", "--json")
    assert result.exit_code == 0, result.output
    info = stdout_json(result)
    assert info["intents"] >= 20 and info["examples"] > 500
    assert 0 <= info["oos_threshold"] < 1 and info["max_distance"] > 0  # both bounds of the out-of-scope rule
    folder = cli.tmp / "models" / "nlu" / info["version"]
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "weights.npz"]
    assert json.loads((folder / "model.json").read_text())["fingerprint"] == info["fingerprint"]
    status = stdout_json(cli("nlu", "status", "--json"))
    assert status["latest"] == info["version"] and status["stale"] is False
    with open(cli.data_dir / "intents" / "smalltalk.yml", "a") as fh:
        fh.write("    - wassup\n")
    assert stdout_json(cli("nlu", "status", "--json"))["stale"] is True
    parsed = stdout_json(cli("nlu", "parse", "--json", "reset my password please"))
    assert parsed["intent"]["name"] == "password_reset"


def test_nlu_test_reports_per_intent_scores_and_writes_plots(cli):
    result = cli("nlu", "test", "--folds", "3", "--json", "--out", str(cli.tmp / "report"))
    assert result.exit_code == 0, result.output
    report = stdout_json(result)
    assert report["macro_f1"] > 0.8
    assert {r["intent"] for r in report["per_intent"]} >= {"greet", "vpn_issue", "out_of_scope"}
    assert all({"precision", "recall", "f1", "support"} <= set(r) for r in report["per_intent"])
    assert report["confused_pairs"] and report["confused_pairs"][0]["examples"]
    for path in report["plots"].values():
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert "f1_per_intent" in report["plots"]
    # the console's Intents page reads the same report back
    from training.report_files import load_report

    saved = load_report(cli.tmp / "report")
    assert saved is not None and saved["macro_f1"] == report["macro_f1"]


def test_benchmark_on_a_clinc_shaped_file(cli):
    from intents.data import load_training_data

    data = load_training_data(DEFAULT_INTENTS)
    rng = random.Random(3)
    rows = {"train": [], "val": [], "test": [], "oos_train": [], "oos_val": [], "oos_test": []}
    for ex in data.examples:
        oos = ex.intent == "out_of_scope"
        split = rng.choice(["train", "train", "train", "val", "test"])
        rows[("oos_" if oos else "") + split].append([ex.text, "oos" if oos else ex.intent])
    path = write(cli.tmp / "mini_clinc.json", json.dumps(rows))
    for split in ("val", "test"):
        result = cli("nlu", "benchmark", "--data", str(path), "--split", split, "--json")
        assert result.exit_code == 0, result.output
        figures = stdout_json(result)
        assert figures["split"] == split
        assert 0 <= figures["in_scope_accuracy"] <= 100 and 0 <= figures["oos_recall"] <= 100
        assert figures["in_scope_accuracy"] > 60
        assert figures["published_test"]["BERT (threshold)"] == {"in_scope_accuracy": 96.2, "oos_recall": 52.3}
        # the val figures without the optimism of picking the point on the rows scored
        assert 0 <= figures["val_halves_in_scope_accuracy"] <= 100 and 0 <= figures["val_halves_oos_recall"] <= 100
    table = cli("nlu", "benchmark", "--data", str(path))
    assert table.exit_code == 0
    assert f"{figures['val_halves_in_scope_accuracy']:.2f}" in table.output  # the estimate's row (test split's run)
    bad = cli("nlu", "benchmark", "--data", str(cli.tmp / "nope.json"), "--json")
    assert bad.exit_code == 1 and "nope.json" in bad.output
