"""Every knowledge update ever promoted, kept as a JSON file, and which one is in use.

`history.json` holds the stack of promotions; rolling back pops the top and puts the one below
back in use (or none). Files are never deleted, so any version can be inspected later.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from cdss.errors import ConfigError, NotFoundError
from ranking.learned import LearnedUpdate

HISTORY = "history.json"


class VersionStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _history(self) -> dict:
        path = self.folder / HISTORY
        if not path.exists():
            return {"promoted": [], "rolled_back": []}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None

    def _write(self, path: Path, data: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temp, path)

    def save(self, update: LearnedUpdate) -> Path:
        path = self.folder / f"{update.version}.json"
        self._write(path, update.to_dict())
        return path

    def load(self, version: str) -> LearnedUpdate:
        path = self.folder / f"{version}.json"
        if not path.is_file():
            raise NotFoundError(f"no learned version {version!r} in {self.folder}")
        try:
            return LearnedUpdate.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not JSON: {exc.msg}") from None

    def versions(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("L*.json")) if self.folder.is_dir() else []

    def current_version(self) -> str | None:
        promoted = self._history()["promoted"]
        return promoted[-1] if promoted else None

    def current(self) -> LearnedUpdate | None:
        version = self.current_version()
        return self.load(version) if version else None

    def next_sequence(self) -> int:
        return len(self.versions()) + 1

    def promote(self, update: LearnedUpdate) -> None:
        self.save(update)
        history = self._history()
        history["promoted"].append(update.version)
        self._write(self.folder / HISTORY, history)

    def rollback(self) -> tuple[str, str | None]:
        """Put the previous version back in use; (the version withdrawn, the one now in use)."""
        history = self._history()
        if not history["promoted"]:
            raise NotFoundError("no learned version is in use, so there is nothing to roll back")
        withdrawn = history["promoted"].pop()
        history["rolled_back"].append(withdrawn)
        self._write(self.folder / HISTORY, history)
        return withdrawn, (history["promoted"][-1] if history["promoted"] else None)

    def status(self) -> dict:
        history = self._history()
        return {"current": self.current_version(), "kept": self.versions(), **history}
