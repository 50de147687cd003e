"""One gunicorn worker at a time may retire, and only while no worker is loading.

A worker retires when it has answered its share of requests (memory growth cannot build up) or when the graph
file under it was replaced by a rebuild (its replacement loads the new graph). A replacement loads for about
a minute before it accepts a connection; if every worker retired at once, nobody would answer meanwhile. Workers
under even load reach their request count at about the same moment, so jitter alone does not keep them apart.

The gate is two files in a folder per gunicorn master, shared by its workers:

- `boot.lock`: a loading worker holds a shared lock on it from fork until it has booted; a worker may retire
  only when it can take the exclusive lock at once, that is when nobody is loading;
- `pending`: made by a worker as it decides to retire, removed by the next worker to start loading (its
  replacement) once that one holds the boot lock; while it exists nobody else retires, which covers the
  moment between one worker leaving and its replacement taking the lock, however long the leaving takes.

The boot lock also holds back a worker told to stop while others load: a HUP starts new workers and stops the
old ones at once, so the old finish only once the new can answer (gunicorn.conf.py, `post_worker_init`).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path


def gate_folder(master_pid: int) -> Path:
    """The folder of one master's workers (each worker knows its master as its parent)."""
    folder = Path(tempfile.gettempdir()) / f"cdss-recycle-{master_pid}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


class RecycleGate:
    """The gate of the workers of one master."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._boot: int | None = None

    def loading(self) -> None:
        """Held from fork until `loaded`; a retirement waits for it. Taking it clears a pending retirement,
        since this worker is the replacement the master started for it."""
        self._boot = self._open()
        fcntl.flock(self._boot, fcntl.LOCK_SH)
        (self.folder / "pending").unlink(missing_ok=True)

    def loaded(self) -> None:
        if self._boot is not None:
            os.close(self._boot)
            self._boot = None

    def nobody_loading(self) -> bool:
        """Whether no worker of this master is loading now."""
        descriptor = self._open()
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(descriptor)

    def may_retire(self) -> bool:
        """Whether this worker may retire now: nobody loading and no retirement waiting for its replacement.
        When it may, its retirement is pending until a replacement starts loading, so it must then retire."""
        descriptor = self._open()
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            return False
        try:
            pending = self.folder / "pending"
            if pending.exists():
                return False
            pending.write_text(str(os.getpid()), encoding="ascii")
            return True
        finally:
            os.close(descriptor)

    def _open(self) -> int:
        return os.open(self.folder / "boot.lock", os.O_RDWR | os.O_CREAT, 0o600)
