"""A full build of the embedded store: written beside the live file, swapped in with one rename.

A build killed halfway leaves the live file untouched. The swap itself holds the live file's write lock, so
that what a server writes into the live graph during the build (ingested records) is either in the new file,
copied by `before_swap` under that lock, or refused: a write that waited for the lock finds the file replaced
(`SqliteStore._transaction`) and is never made into a file that is going away.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kg.sqlite_store import STAGE_MARKER, SqliteStore, remove_stale_stages

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 30.0
"""How long the swap waits for a write in progress on the live file to finish."""


@contextmanager
def staged_store(
    path: Path, *, batch_size: int = 10_000, before_swap: Callable[[SqliteStore], object] | None = None
) -> Iterator[SqliteStore]:
    """Yield a fresh store beside `path`; when the block succeeds, it replaces `path` atomically.

    `before_swap` runs on the finished new store while the live file's write lock is held, just before the
    rename. On any failure, or if the process dies, the file at `path` is untouched; leftovers of killed
    builds are removed the next time a build starts.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_stages(path)
    stage = path.with_name(f"{path.name}{STAGE_MARKER}{os.getpid()}-{threading.get_ident()}")
    stage.unlink(missing_ok=True)
    store: SqliteStore | None = None
    try:
        store = SqliteStore(stage, create=True, batch_size=batch_size, staging=True)
        yield store
        store._finish_staging()
        store.close()
        with _live_write_lock(path):
            if before_swap is not None:
                store = SqliteStore(stage, batch_size=batch_size)
                before_swap(store)
                store.close()
            with stage.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(stage, path)
            _fsync_folder(path.parent)
    except BaseException:
        if store is not None:
            store.close()
        stage.unlink(missing_ok=True)
        raise


@contextmanager
def _live_write_lock(path: Path) -> Iterator[None]:
    """Hold the live file's write lock (readers carry on); nothing to hold when there is no readable live file."""
    if not path.is_file():
        yield
        return
    connection = sqlite3.connect(path, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
    try:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as error:
            log.warning("the graph being replaced cannot be locked (%s); swapping it without the lock", error)
        yield
    finally:
        connection.close()


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
