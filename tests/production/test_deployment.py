"""The Helm chart and compose file: rendered by Helm itself (helm-python-sdk embeds Helm's Go library, offline),
linted, and every manifest validated against the Kubernetes OpenAPI schemas (kubernetes-validate, strict).

What is NOT checked here: that a cluster accepts the release (no cluster), that the image builds and
starts (no container engine on this machine), and the compose file beyond its structure and settings.
"""

from __future__ import annotations

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
                                           "nodeSelector": {"pool": "apps"}}])
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
