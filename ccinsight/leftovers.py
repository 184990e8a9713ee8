"""Nothing left behind after a kill: temporary folders carry their process id, and each start
removes those of processes that are gone; pool workers end when their parent does.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import time
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` running (any platform with ``os.kill``; no ``/proc`` needed)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists, it is just not ours (or the platform cannot tell: keep it)
    return True


def tagged(prefix: str) -> str:
    """A temporary folder prefix that names this process: ``PREFIX<pid>-``."""
    return f"{prefix}{os.getpid()}-"


def clear_stale(folder: Path, prefix: str) -> list[Path]:
    """Remove folders in ``folder`` named ``PREFIX<pid>...`` whose process is gone; return them."""
    removed = []
    pattern = re.compile(re.escape(prefix) + r"(\d+)(?:-|$)")
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        m = pattern.match(path.name)
        if m and path.is_dir() and not pid_alive(int(m.group(1))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def watch_parent(interval_s: float = 1.0) -> None:
    """In a worker process: exit as soon as the process that started it is gone (killed
    outright, it could not stop its workers), instead of idling on for minutes."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval_s)
            if os.getppid() != parent or not pid_alive(parent):
                os._exit(1)

    threading.Thread(target=watch, name="ccinsight-parent-watch", daemon=True).start()
