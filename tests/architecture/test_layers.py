"""The layering of docs/architecture.md, checked by walking every import of every module.

foundation <- libraries <- engine <- channels: a module may import only from its own
layer or below. Imports inside functions and under ``TYPE_CHECKING`` count too:
a hidden dependency is still a dependency.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "intents", "knowledge_base", "integrations", "training")
FIRST_PARTY = set(PACKAGES)

FOUNDATION = {
    "bot.errors", "bot.settings_base", "bot.redact", "bot.problems", "bot.backoff", "bot.encoding",
    "bot.vector_cache", "bot.metrics", "bot.storage.base", "bot.storage.session",
}
LIBRARIES = ("intents", "knowledge_base", "integrations", "training")
CHANNELS = ("bot.channels", "bot.web", "bot.console", "bot.cli", "bot.server", "bot.__main__")
# bot.analytics (the dashboard's figures, used by `helpdesk report` and the console) is engine: plain
# queries over the database and the gaps rule, no HTTP, no terminal; it never imports a channel
# training builds the intent model and the article index, so it may use both libraries;
# the Rasa integration speaks the intents library's parse shape
EXTRA_LIBRARY_DEPENDENCIES = {"training": ("intents", "knowledge_base"), "integrations.rasa": ("intents",)}
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules(extra: Sequence[tuple[str, Path]] = ()) -> list[tuple[str, Path]]:
    """Every first-party module (name, file), plus ``extra`` ones (a probe, written outside the source tree:
    under pytest-xdist another worker may be walking the tree at the same time)."""
    found = list(extra)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found.append((module_name(path), path))
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """Every first-party module ``name`` imports (absolute, resolved from relative imports)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # `from bot import notify` imports the module bot.notify
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in FIRST_PARTY}


def layer_of(module: str) -> str:
    if module in FOUNDATION or module == "bot":
        return "foundation"
    top = module.split(".")[0]
    if top in LIBRARIES:
        return "library"
    if any(module == c or module.startswith(c + ".") for c in CHANNELS):
        return "channel"
    return "engine"


def is_module(name: str) -> bool:
    parts = name.split(".")
    path = ROOT.joinpath(*parts)
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(extra: Sequence[tuple[str, Path]] = ()) -> list[str]:
    found = []
    for name, path in source_modules(extra):
        layer = layer_of(name)
        for target in sorted(imports_of(name, path)):
            if not is_module(target) or target == name:
                continue  # `from pkg import SomeClass`: the module itself is checked as `pkg`
            target_layer = layer_of(target)
            allowed = {
                "foundation": {"foundation"},
                "library": {"foundation", "library"},
                "engine": {"foundation", "library", "engine"},
                "channel": {"foundation", "library", "engine", "channel"},
            }[layer]
            if target_layer not in allowed:
                found.append(f"{name} ({layer}) imports {target} ({target_layer})")
                continue
            if layer == "library" and target_layer == "library":
                own = name.split(".")[0] if not name.startswith("integrations.") else ".".join(name.split(".")[:2])
                other = target.split(".")[0] if not target.startswith("integrations.") else ".".join(
                    target.split(".")[:2])
                extra = EXTRA_LIBRARY_DEPENDENCIES.get(own, ())
                if own != other and other not in extra and other != "integrations":
                    found.append(f"{name} (library {own}) imports {target} (library {other})")
    return found


def test_every_import_respects_the_layers() -> None:
    assert violations() == []


def cli_imports(extra: Sequence[tuple[str, Path]] = ()) -> list[str]:
    """Modules outside the CLI that import it: the CLI is one front end; what others need lives below it."""
    return [f"{name} imports {target}" for name, path in source_modules(extra)
            if not (name == "bot.cli" or name.startswith("bot.cli.") or name == "bot.__main__")
            for target in sorted(imports_of(name, path)) if target == "bot.cli" or target.startswith("bot.cli.")]


def test_only_the_cli_imports_the_cli() -> None:
    assert cli_imports() == []


def test_the_checker_catches_the_console_importing_the_cli(tmp_path: Path) -> None:
    bad = tmp_path / "_cli_probe.py"
    bad.write_text("from bot.cli.tickets import app\n", encoding="utf-8")
    assert "bot.console._cli_probe imports bot.cli.tickets" in cli_imports([("bot.console._cli_probe", bad)])


def test_the_checker_catches_a_library_importing_the_engine(tmp_path: Path) -> None:
    """The check itself can fail: a library module importing bot.services is reported."""
    bad = tmp_path / "_layer_probe.py"
    bad.write_text("from bot.services import Services\n", encoding="utf-8")
    assert "knowledge_base._layer_probe (library) imports bot.services (engine)" in violations(
        [("knowledge_base._layer_probe", bad)])


def test_no_module_is_over_400_lines() -> None:
    long = [f"{name}: {len(path.read_text(encoding='utf-8').splitlines())} lines"
            for name, path in source_modules()
            if len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES]
    assert long == []


PUBLIC_PACKAGES = ["bot.storage", "bot.flows", "bot.notices", "intents", "knowledge_base",
                   "integrations.directory", "integrations.ticketing", "integrations.rasa", "training"]


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_each_package_exports_its_public_api(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert exported, f"{package} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{package}.__all__ names what it does not define: {missing}"
