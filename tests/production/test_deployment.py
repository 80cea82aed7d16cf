"""The Helm chart and compose file: rendered by Helm itself (helm-python-sdk embeds Helm's Go library, offline),
linted, and every manifest validated against the Kubernetes OpenAPI schemas (kubernetes-validate, strict).

What is NOT checked here: that a cluster accepts the release (no cluster), that the image builds and
starts (no container engine on this machine), and the compose file beyond its structure and settings.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

CHART = ROOT / "deploy" / "helm" / "helpdesk-bot"
KUBE_VERSION = "1.30.0"


def render(values: dict[str, Any] | None = None, *, upgrade: bool = False) -> list[dict[str, Any]]:
    chart_module = pytest.importorskip("helm_python.chart", reason="helm-python-sdk (Helm's library) not installed")
    chart = chart_module.Chart.load(str(CHART))
    rendered = chart.render(values, name="hd", namespace="it", is_install=not upgrade, is_upgrade=upgrade)
    docs = [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]
    assert docs, "the chart rendered nothing"
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def test_helm_lint_reports_no_error_or_warning() -> None:
    chart_module = pytest.importorskip("helm_python.chart", reason="helm-python-sdk not installed")
    report = chart_module.lint(str(CHART), strict=True, kube_version=f"v{KUBE_VERSION}")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert problems == []


@pytest.mark.parametrize("values", [None, {"replicaCount": 3, "migrations": {"enabled": False},
                                           "podAnnotations": {"prometheus.io/scrape": "true"},
                                           "nodeSelector": {"pool": "apps"}},
                                    {"sharedModels": {"enabled": True, "storageClassName": "nfs"}},
                                    {"sharedModels": {"enabled": True, "existingClaim": "my-models"}}])
def test_every_rendered_manifest_is_valid_kubernetes(values: dict[str, Any] | None) -> None:
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate not installed")
    for doc in render(values):
        kv.validate(doc, KUBE_VERSION, strict=True)  # raises ValidationError naming the field


def test_a_wrong_field_is_caught_by_the_validation() -> None:
    """The schema check can fail: a typo'd container field is rejected."""
    kv = pytest.importorskip("kubernetes_validate")
    deployment = by_kind(render(), "Deployment")[0]
    deployment["spec"]["template"]["spec"]["containers"][0]["readynessProbe"] = {}
    with pytest.raises(kv.ValidationError):
        kv.validate(deployment, KUBE_VERSION, strict=True)


def test_two_replicas_probes_pdb_and_no_migrating_pods() -> None:
    docs = render()
    deployment = by_kind(docs, "Deployment")[0]
    assert deployment["spec"]["replicas"] >= 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in container["env"]}
    assert env["HELPDESK_DATABASE__AUTO_MIGRATE"]["value"] == "false"  # only the Job migrates
    assert env["HELPDESK_SERVER__PUBLIC_URL"]["value"].startswith("https://")
    assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]
    pdb = by_kind(docs, "PodDisruptionBudget")[0]
    assert pdb["spec"]["minAvailable"] >= 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert by_kind(docs, "Service")[0]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_every_secret_comes_from_a_kubernetes_secret_never_a_literal() -> None:
    docs = render()
    for workload in by_kind(docs, "Deployment") + by_kind(docs, "Job"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e for e in container["env"]}
            for name in ("HELPDESK_DATABASE__URL", "HELPDESK_SLACK__SIGNING_SECRET", "HELPDESK_SERVER__API_TOKEN",
                         "HELPDESK_SLACK__BOT_TOKEN", "HELPDESK_TICKETING__JIRA__WEBHOOK_SECRET"):
                assert "value" not in env[name]
                assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "helpdesk-bot-secrets"
            assert env["HELPDESK_DATABASE__URL"]["valueFrom"]["secretKeyRef"]["optional"] is False


def test_migrations_run_once_as_a_pre_install_and_pre_upgrade_job() -> None:
    for upgrade in (False, True):
        jobs = by_kind(render(upgrade=upgrade), "Job")
        assert len(jobs) == 1
        job = jobs[0]
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["helpdesk", "db", "upgrade"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert by_kind(render({"migrations": {"enabled": False}}), "Job") == []


def _image_models_dir() -> str:
    """HELPDESK_PATHS__MODELS_DIR as the Dockerfile sets it (where the image bakes its models)."""
    text = (ROOT / "Dockerfile").read_text()
    return text.split("HELPDESK_PATHS__MODELS_DIR=", 1)[1].split()[0]


def test_shared_models_volume_is_one_rwx_claim_mounted_over_the_intent_models() -> None:
    """With sharedModels on, every replica mounts one ReadWriteMany claim where the intent models live."""
    docs = render({"sharedModels": {"enabled": True}})
    claim = by_kind(docs, "PersistentVolumeClaim")
    assert len(claim) == 1 and claim[0]["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim[0]["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    pod = by_kind(docs, "Deployment")[0]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "models")
    assert volume["persistentVolumeClaim"]["claimName"] == claim[0]["metadata"]["name"]
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "models")
    from intents.store import ModelStore

    # the intent store's own folder under the image's models dir (the ONNX encoder export stays in the image)
    assert mount["mountPath"] == ModelStore(_image_models_dir()).root.as_posix()
    assert pod["securityContext"]["fsGroup"] == pod["containers"][0]["securityContext"]["runAsUser"]
    seed = pod["initContainers"][0]
    assert seed["image"] == pod["containers"][0]["image"] and seed["securityContext"]["runAsNonRoot"] is True
    # an existing claim is used as it is; off (the default), nothing is mounted or created
    mine = render({"sharedModels": {"enabled": True, "existingClaim": "my-models"}})
    assert by_kind(mine, "PersistentVolumeClaim") == []
    assert any(v.get("persistentVolumeClaim", {}).get("claimName") == "my-models"
               for v in by_kind(mine, "Deployment")[0]["spec"]["template"]["spec"]["volumes"])
    default = render()
    assert by_kind(default, "PersistentVolumeClaim") == []
    assert "initContainers" not in by_kind(default, "Deployment")[0]["spec"]["template"]["spec"]


WEIGHTS = bytes(range(256)) * 4096  # 1 MiB: a copy takes long enough for two seeds to overlap


def _version(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "model.json").write_text("{}")
    (root / name / "weights.npz").write_bytes(WEIGHTS)


def _seed_script() -> str:
    return by_kind(render({"sharedModels": {"enabled": True}}), "Deployment")[0][
        "spec"]["template"]["spec"]["initContainers"][0]["command"][2]


def _seed(script: str, baked: Path, shared: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    body = script.replace("/app/models/nlu", str(baked)).replace("/shared", str(shared))
    return subprocess.Popen(["sh", "-ec", body], env=env)


def _recording_cp(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose ``cp`` logs its last argument (the destination) and then copies as usual."""
    import os
    import shutil as sh

    bin_dir, log = tmp_path / "bin", tmp_path / "cp.log"
    bin_dir.mkdir()
    shim = bin_dir / "cp"
    shim.write_text(f'#!/bin/sh\nfor last; do :; done\necho "$last" >> {log}\nexec {sh.which("cp")} "$@"\n')
    shim.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, log


def _image(tmp_path: Path) -> tuple[Path, Path]:
    baked, shared = tmp_path / "image" / "nlu", tmp_path / "volume" / "nlu"
    _version(baked, "20260102T000000Z-b")
    (baked / "LATEST").write_text("20260102T000000Z-b\n")
    shared.mkdir(parents=True)
    return baked, shared


@pytest.mark.parametrize("current, expected", [(None, "20260102T000000Z-b"),      # an empty volume
                                               ("20260101T000000Z-a", "20260102T000000Z-b"),  # an older model
                                               ("20260103T000000Z-c", "20260103T000000Z-c")])  # a retrained one
def test_the_seed_copies_the_images_model_and_keeps_a_newer_retrain(tmp_path: Path, current: str | None,
                                                                       expected: str) -> None:
    """The init container's script, run with sh: the image's model is copied in; LATEST moves only forward."""
    from intents.store import ModelStore

    script = _seed_script()
    baked, shared = _image(tmp_path)
    if current:
        _version(shared, current)
        (shared / "LATEST").write_text(current + "\n")
    assert _seed(script, baked, shared).wait(timeout=30) == 0
    store = ModelStore(shared.parent)  # what every replica's serving process reads
    assert "20260102T000000Z-b" in store.versions() and store.latest_version() == expected
    assert _seed(script, baked, shared).wait(timeout=30) == 0  # a second pod starting: nothing changes
    assert store.latest_version() == expected


def test_replicas_seeding_at_once_never_expose_half_a_copy(tmp_path: Path) -> None:
    """Four pods start together (and one died mid-copy before): the volume ends with one whole copy, no leftovers
    under the version's name, and LATEST names it."""
    from intents.store import ModelStore

    script = _seed_script()
    baked, shared = _image(tmp_path)
    dead = shared / ".20260102T000000Z-b.seed.dead-pod.7"  # a pod killed while copying: its private copy stays
    dead.mkdir()
    (dead / "weights.npz").write_bytes(WEIGHTS[:10])
    env, cp_log = _recording_cp(tmp_path)
    seeds = [_seed(script, baked, shared, env) for _ in range(4)]
    assert [p.wait(timeout=60) for p in seeds] == [0, 0, 0, 0]
    # every copy is written under a private hidden name, never straight into the name replicas load
    destinations = cp_log.read_text().split()
    assert destinations and all(Path(d).name.startswith(".20260102T000000Z-b.seed.") for d in destinations)
    copied = shared / "20260102T000000Z-b"
    assert (copied / "weights.npz").read_bytes() == WEIGHTS and (copied / "model.json").read_text() == "{}"
    assert ModelStore(shared.parent).latest_version() == "20260102T000000Z-b"
    assert sorted(p.name for p in shared.iterdir() if ".seed." in p.name) == [dead.name]  # only the dead pod's


def test_compose_runs_migrations_once_then_the_bot_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) >= {"db", "migrate", "bot", "ldap"}
    assert services["ldap"]["profiles"] == ["ldap"]  # the directory is an optional demo
    assert services["migrate"]["command"] == ["helpdesk", "db", "upgrade"]
    bot = services["bot"]
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["environment"]["HELPDESK_DATABASE__URL"].startswith("postgresql+psycopg://helpdesk:${POSTGRES_PASSWORD")
    assert bot["environment"]["HELPDESK_DATABASE__AUTO_MIGRATE"] == "false"
    # the demo is insecure on purpose (plain http) and says so; the port is published on loopback only
    assert bot["environment"]["HELPDESK_SERVER__ALLOW_INSECURE"] == "true"
    assert all(str(p).startswith("127.0.0.1:") for p in bot["ports"])
    example = (ROOT / "deploy" / "bot.env.example").read_text()
    assert not [line for line in example.splitlines() if line and not line.startswith("#") and line.endswith("=")]


def test_compose_settings_are_accepted_by_the_bot(tmp_path: Path) -> None:
    """The HELPDESK_* variables compose sets (plus the example env file) load into valid Settings."""
    from bot.config import load_settings

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    env = {k: str(v).replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", "pw")
           for k, v in compose["services"]["bot"]["environment"].items()}
    for line in (ROOT / "deploy" / "bot.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    empty = tmp_path / "helpdesk.toml"
    empty.touch()
    settings = load_settings(empty, environ=env)
    assert settings.server.allow_insecure is True
    assert settings.database.url.get_secret_value().startswith("postgresql+psycopg://helpdesk:pw@db:5432/")
