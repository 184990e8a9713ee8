"""Nothing left behind after a kill: stale folders of dead processes are cleared, those of
live ones kept; a worker ends when its parent is gone."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from ccinsight import leftovers


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_folders_of_dead_processes_are_cleared(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    for name in (f".nb.tmp-{dead}-abc", f".nb.tmp-{alive}-def", ".nb.tmp-x", "keep-me"):
        (tmp_path / name).mkdir()
    removed = leftovers.clear_stale(tmp_path, ".nb.tmp-")
    assert [p.name for p in removed] == [f".nb.tmp-{dead}-abc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".nb.tmp-{alive}-def", ".nb.tmp-x", "keep-me"]


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
    while leftovers.pid_alive(child) and time.time() < deadline:
        time.sleep(0.1)
        try:  # reap it if it became our zombie (it is re-parented to init, normally)
            os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            pass
    assert not leftovers.pid_alive(child) or _zombie(child)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False
