"""Versioned model files under ``models_dir/nlu/``: ``<version>/model.json`` + ``weights.npz``.

``LATEST`` names the version in use (replaced atomically). Files are JSON and
NumPy arrays loaded with ``allow_pickle=False``; nothing executable is stored.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bot.errors import DataError
from intents.model import IntentModel

log = logging.getLogger(__name__)

FORMAT = "helpdesk-nlu"
FORMAT_VERSION = 1
KEEP_VERSIONS = 5


class ModelStore:
    """The saved model versions under ``models_dir/nlu``."""

    def __init__(self, models_dir: Path | str) -> None:
        self.root = Path(models_dir) / "nlu"

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        # hidden names are copies being written (a save's or a replica's seed): never a version yet
        return sorted(p.name for p in self.root.iterdir()
                      if not p.name.startswith(".") and (p / "model.json").is_file())

    def latest_version(self) -> str | None:
        pointer = self.root / "LATEST"
        if pointer.is_file():
            name = pointer.read_text(encoding="utf-8").strip()
            if name and (self.root / name / "model.json").is_file():
                return name
        versions = self.versions()
        return versions[-1] if versions else None

    def save(self, model: IntentModel) -> str:
        """Write a new version and make it the latest; returns the version name."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        version = f"{stamp}-{(model.fingerprint or 'nofp')[:8]}"
        target = self.root / version
        unique = f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:8]}"  # replicas may share the folder
        tmp = self.root / f".{version}.tmp.{unique}"
        tmp.mkdir(parents=True, exist_ok=False)
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **model.to_json()}
        (tmp / "model.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        np.savez(tmp / "weights.npz", **model.arrays())  # type: ignore[arg-type]  # numpy stub
        os.replace(tmp, target)
        pointer_tmp = self.root / f".LATEST.tmp.{unique}"
        pointer_tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(pointer_tmp, self.root / "LATEST")
        model.meta["version"] = version
        self._prune()
        log.info("saved NLU model %s", target)
        return version

    def load(self, version: str | None = None) -> IntentModel | None:
        """The given (or latest) version, or None when there is none. Bad files raise DataError."""
        version = version or self.latest_version()
        if version is None:
            return None
        folder = self.root / version
        meta_path = folder / "model.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("no such model version", path=str(folder)) from None
        except (OSError, ValueError) as exc:
            raise DataError(f"the model file cannot be read ({exc})", path=str(meta_path)) from None
        if meta.get("format") != FORMAT or int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise DataError("not a model this version of the bot can read; run `helpdesk train`",
                            path=str(meta_path))
        try:
            with np.load(folder / "weights.npz", allow_pickle=False) as npz:
                arrays = {k: np.asarray(npz[k]) for k in npz.files}
            model = IntentModel.from_saved(meta, arrays)
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(f"the model weights cannot be read ({exc}); run `helpdesk train`",
                            path=str(folder / "weights.npz")) from None
        model.meta["version"] = version
        return model

    def _prune(self) -> None:
        for old in self.versions()[:-KEEP_VERSIONS]:
            shutil.rmtree(self.root / old, ignore_errors=True)
