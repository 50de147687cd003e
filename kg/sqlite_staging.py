"""A full build of the embedded store: written beside the live one, swapped in by repointing a symbolic link.

The graph's path is a link to the live build file (`graph.sqlite -> graph.sqlite.live-<pid>-<ns>`). A build
writes a stage file, renames it to a new live file and replaces the link in one rename; the previous live file
is then unlinked, while workers that still read it keep their open handle. The link matters: SQLite names a
rollback journal after the file it opened (links resolved), so a worker still reading a replaced file never
finds the new file's journal at its own journal path and "recovers" it into the old file, which would spoil
the old file and leave the new one's transaction without its journal.

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
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kg.sqlite_store import SqliteStore

log = logging.getLogger(__name__)

STAGE_MARKER = ".building-"
LIVE_MARKER = ".live-"
LOCK_WAIT_SECONDS = 30.0
"""How long the swap waits for a write in progress on the live file to finish."""


@contextmanager
def staged_store(
    path: Path, *, batch_size: int = 10_000, before_swap: Callable[[SqliteStore], object] | None = None
) -> Iterator[SqliteStore]:
    """Yield a fresh store beside `path`; when the block succeeds, `path` names it from then on.

    `before_swap` runs on the finished new store while the live file's write lock is held, just before the
    swap. On any failure, or if the process dies, the file `path` names is untouched; leftovers of killed
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
            swap_in(path, stage)
    except BaseException:
        if store is not None:
            store.close()
        stage.unlink(missing_ok=True)
        raise


def swap_in(path: Path, built: Path) -> None:
    """Make `path` name the finished graph file `built` (in the same folder) from now on, in one rename, and
    remove the live file it named before; readers that hold that one keep reading it."""
    live = path.with_name(f"{path.name}{LIVE_MARKER}{os.getpid()}-{time.time_ns()}")
    os.replace(built, live)
    link = path.with_name(f"{path.name}{STAGE_MARKER}{os.getpid()}-{threading.get_ident()}.link")
    try:
        previous = _point(path, at=live, link=link)
    except BaseException:
        live.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    if previous is not None:
        previous.unlink(missing_ok=True)


def _point(path: Path, *, at: Path, link: Path) -> Path | None:
    """Make `path` a link to `at` in one rename; returns the live file it named before, when that is one of ours.

    Where the folder takes no links, `at` is renamed onto `path` instead (the swap is still atomic for new
    readers; a worker still reading the old file must then be restarted before anything writes the new one).
    """
    previous = path.resolve() if path.is_symlink() else None
    link.unlink(missing_ok=True)
    try:
        os.symlink(at.name, link)
    except OSError as error:
        log.warning("%s takes no symbolic links (%s); renaming the new graph onto %s", path.parent, error, path.name)
        link = at
    os.replace(link, path)
    ours = previous is not None and previous.parent == path.parent.resolve()
    return previous if ours and previous.name.startswith(f"{path.name}{LIVE_MARKER}") else None


def remove_stale_stages(path: Path) -> list[Path]:
    """Delete what killed builds of `path` left: half-written stages and links of builders that are gone, and
    live files that `path` no longer names whose builder is gone."""
    current = path.resolve() if path.exists() else None
    removed = []
    for marker in (STAGE_MARKER, LIVE_MARKER):
        for candidate in sorted(path.parent.glob(f"{path.name}{marker}*")):
            builder = candidate.name.rsplit(marker, 1)[-1].split("-", 1)[0]
            current_file = not candidate.is_symlink() and candidate.resolve() == current
            if builder.isdigit() and not _pid_alive(int(builder)) and not current_file:
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
