"""Small files that hold secrets (the record-id key, the data keyring): written whole, readable by their owner
only, and created once even when several worker processes start at the same moment."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def staged_file(path: Path, text: str) -> Path:
    """`text` in a new file beside `path` (mode 0600, flushed to disk), to be linked or renamed into place."""
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def publish_once(path: Path, text: str) -> None:
    """Create `path` holding `text` unless it exists. A link publishes the whole file and only where none is
    yet, so of processes racing to create it one wins and the others read the winner's file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = staged_file(path, text)
    try:
        os.link(staged, path)
    except FileExistsError:
        pass
    finally:
        staged.unlink()
