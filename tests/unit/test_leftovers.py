"""Concurrent runs and killed runs, coordinated by file locks: a lock held by a live process
keeps its folder, one whose process was killed is free and its folder cleared; a second
run of the same output waits; a worker ends when its parent is gone."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from ccinsight import leftovers


def _holder(code: str) -> tuple[subprocess.Popen, str]:
    """A process that runs ``code`` (taking a lock), prints a line and sleeps; returns it and its line."""
    proc = subprocess.Popen([sys.executable, "-c", f"{code}\nimport time\ntime.sleep(120)"],
                            stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_folders_whose_lock_is_free_are_cleared(tmp_path):
    take = ("from ccinsight.leftovers import private_folder\n"
            f"folder, lock = private_folder('.nb.tmp-', {str(tmp_path)!r})\nprint(folder.name, flush=True)")
    live, live_name = _holder(take)
    killed, killed_name = _holder(take)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    (tmp_path / ".nb.tmp-new").mkdir()  # just made, lock not yet taken: kept
    old = tmp_path / ".nb.tmp-old"
    old.mkdir()  # no lock file and long past creation: a run killed before it took the lock
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    (tmp_path / "keep-me").mkdir()
    try:
        removed = leftovers.clear_stale(tmp_path, ".nb.tmp-")
        assert sorted(p.name for p in removed) == sorted([killed_name, ".nb.tmp-old"])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live_name, ".nb.tmp-new", "keep-me"])
    finally:
        live.kill()
        live.wait()
    assert [p.name for p in leftovers.clear_stale(tmp_path, ".nb.tmp-")] == [live_name]


def test_a_second_run_waits_then_clears_what_a_killed_one_left(tmp_path):
    holder, _ = _holder("from ccinsight.leftovers import exclusive\n"
                        f"ctx = exclusive(__import__('pathlib').Path({str(tmp_path)!r}), '2026-10', 'x')\n"
                        "ctx.__enter__()\n"
                        f"__import__('os').mkdir({str(tmp_path / '.2026-10.tmp-1')!r})\nprint('held', flush=True)")
    said, inside = [], threading.Event()

    def second():
        with leftovers.exclusive(tmp_path, "2026-10", "the deck for 2026-10", said.append):
            inside.set()

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(1.0)
    assert not inside.is_set(), "the second run must wait while the first holds the lock"
    assert said == ["Another ccinsight run is writing the deck for 2026-10; waiting for it to finish ..."]
    holder.send_signal(signal.SIGKILL)  # killed outright: the system releases its lock
    holder.wait()
    thread.join(timeout=30)
    assert inside.is_set()
    assert not (tmp_path / ".2026-10.tmp-1").exists()  # its leftovers cleared by the next run


def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    """A parent starts a child that watches it, then is killed; the child must exit."""
    pidfile = tmp_path / "child.pid"
    parent_code = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", '''
import time
from ccinsight.leftovers import watch_parent
watch_parent(0.2)
open({str(pidfile)!r}, "w").write(str(__import__("os").getpid()))
time.sleep(120)
'''])
time.sleep(120)
"""
    parent = subprocess.Popen([sys.executable, "-c", parent_code])
    deadline = time.time() + 30
    while not pidfile.exists() and time.time() < deadline:
        time.sleep(0.1)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    deadline = time.time() + 10
    while _running(child) and time.time() < deadline:
        time.sleep(0.1)
        try:  # reap it if it became our zombie (it is re-parented to init, normally)
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            pass
    assert not _running(child) or _zombie(child)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False
