"""Whole runs: a database, the fake Slack and N replicas brought up, loaded, checked and torn down."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness.load import LoadResult, check_turns, run_load
from bench.harness.scan import scan
from bench.harness.stack import (
    SECRETS,
    Replica,
    base_sections,
    free_port,
    prepare_database,
    scratch_database,
    start_fake_slack,
)

TRACEBACK = re.compile(r"Traceback \(most recent call last\)")


@dataclass
class Deployment:
    """Replicas sharing one database (and one fake Slack)."""

    database_url: str
    replicas: list[Replica]
    fake: Any
    folder: Path
    extra_logs: list[Path] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [r.url for r in self.replicas]

    def logs(self) -> str:
        return "\n".join(r.log_text() for r in self.replicas)

    def tracebacks(self) -> int:
        return len(TRACEBACK.findall(self.logs()))


@contextmanager
def deployment(folder: Path, *, backend: str, replicas: int, models_dir: Path, pg_url: str | None,
               slack: bool = True, database_url: str | None = None,
               sections: dict[str, dict[str, Any]] | None = None) -> Iterator[Deployment]:
    """``replicas`` `helpdesk serve` processes on a fresh database (``database_url`` overrides what they use)."""
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        fake = start_fake_slack() if slack else None
        if fake is not None:
            stack.callback(fake.stop)
        real_url = stack.enter_context(scratch_database(backend, folder, pg_url))
        started: list[Replica] = []
        for n in range(replicas):
            parts = base_sections(folder / f"replica{n}", database_url or real_url, models_dir, free_port(),
                                  fake.base_url if fake else None)
            for name, values in (sections or {}).items():
                parts[name] = {**parts.get(name, {}), **values}
            if n == 0:
                prepare_database(folder, parts)
            replica = Replica(f"replica{n}", folder / f"replica{n}", parts)
            stack.callback(replica.stop)
            replica.start()  # one at a time: the first one migrates the database
            started.append(replica)
        yield Deployment(real_url, started, fake, folder)


def load_run(folder: Path, *, backend: str, replicas: int, http_users: int, slack_users: int, seconds: float,
             models_dir: Path, pg_url: str | None) -> dict[str, Any]:
    """One load run, every turn checked; the figures and the problems found."""
    with deployment(folder, backend=backend, replicas=replicas, models_dir=models_dir, pg_url=pg_url,
                    slack=slack_users > 0) as dep:
        result = run_load(dep.urls, http_users=http_users, slack_users=slack_users, seconds=seconds, fake=dep.fake)
        time.sleep(1.0)  # let the last acknowledged Slack turn commit
        problems = check_turns(dep.database_url, result)
        figures = summarize(result, problems, dep)
        figures["rss_mb"] = [round(r.rss_mb(), 1) for r in dep.replicas]
        if dep.fake is not None:
            figures["slack_contract_violations"] = len(dep.fake.violations)
        figures["secrets_scan"] = scan(SECRETS, database_url=dep.database_url, logs=[r.log_path for r in dep.replicas])
        return figures


def summarize(result: LoadResult, problems: list[str], dep: Deployment) -> dict[str, Any]:
    """The figures of a run, plus its problems (the first 10) and server tracebacks."""
    figures = result.figures()
    figures["problems"] = len(problems)
    figures["problem_examples"] = problems[:10]
    figures["server_tracebacks"] = dep.tracebacks()
    return figures
