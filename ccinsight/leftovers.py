"""Concurrent runs and what killed runs leave behind, coordinated by file locks.

A lock here is an operating-system lock on an open file (``filelock``: ``fcntl.flock`` on
POSIX, ``msvcrt.locking`` on Windows). The system releases it when its process ends, however
it ends, so a held lock means a live run and a free one means nobody is using what it guards:
no process ids, no ``/proc``, no guessing.

- :func:`exclusive`: one run at a time writes a given output (a deck's month, a notebook's
  output folder); the next one waits, saying so, then clears the temporary folders earlier
  runs of that output left when killed.
- :func:`private_folder` / :func:`clear_stale`: a temporary folder holds its own lock while
  in use (the kernels' socket folders); the next start removes those whose lock is free.
- :func:`watch_parent`: pool workers end when the process that started them is gone.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

#: The lock file inside a private folder.
LOCK_FILE = ".lock"

#: A private folder with no lock file yet is being created, unless older than this.
CREATING_S = 60.0


def _free(lock_path: Path) -> bool:
    """Can the lock at ``lock_path`` be taken now (nobody holds it)?"""
    lock = FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    return True


@contextmanager
def exclusive(folder: Path, name: str, what: str, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock ``FOLDER/.NAME.lock`` for the block: only one run at a time works on
    ``what``. Waits for a run holding it (telling ``say`` once), then removes the
    ``FOLDER/.NAME.tmp-*`` folders that earlier, killed runs of the same output left."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / f".{name}.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if say:
            say(f"Another ccinsight run is writing {what}; waiting for it to finish ...")
        lock.acquire()
    try:
        for path in folder.glob(f".{name}.tmp-*"):  # nobody else can be using them now
            shutil.rmtree(path, ignore_errors=True)
        yield
    finally:
        lock.release()


def temp_name(name: str) -> str:
    """The prefix of a temporary folder :func:`exclusive` clears for ``name``: ``.NAME.tmp-``."""
    return f".{name}.tmp-"


def private_folder(prefix: str, parent: str | Path | None = None) -> tuple[Path, FileLock]:
    """A new temporary folder that holds its own lock; release the lock (or end the process)
    and :func:`clear_stale` may remove it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    lock = FileLock(folder / LOCK_FILE)
    lock.acquire()
    return folder, lock


def clear_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove the folders in ``parent`` named ``PREFIX...`` whose lock nobody holds; return them."""
    removed = []
    try:
        entries = [p for p in Path(parent).iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for path in entries:
        lock_path = path / LOCK_FILE
        try:
            if not path.is_dir():
                continue
            if lock_path.exists():
                if not _free(lock_path):
                    continue
            elif time.time() - path.stat().st_mtime < CREATING_S:  # created, lock not yet taken
                continue
        except OSError:  # another user's folder, or gone meanwhile: not ours to judge
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def watch_parent(interval_s: float = 1.0) -> None:
    """In a worker process: exit as soon as the process that started it is gone (killed
    outright, it could not stop its workers), instead of idling on for minutes. An orphan
    is adopted by another process, so its parent id changes."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="ccinsight-parent-watch", daemon=True).start()
