"""A deck worker's kept kernel (ccinsight.kernels): each notebook sees a new kernel's state,
and a failure hands the next notebook a new kernel."""
from __future__ import annotations

import nbformat
import pytest

from ccinsight import runner

pytestmark = pytest.mark.notebook


def _notebook(folder, name: str, *cells: str):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('tag: str = "x"  # a word')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _in_one_kernel(*runs):
    """Run (notebook, output folder) pairs in turn in one kept kernel; their RunResults."""
    kernel = runner.kept_kernel()
    try:
        return [runner.run(str(path), out=out, kernel=kernel) for path, out in runs]
    finally:
        kernel.close()


def _outputs(out, name):
    nb = nbformat.read(out / f"{name}.ipynb", as_version=4)
    return nb, [o for c in nb.cells for o in c.get("outputs", [])]


def test_each_notebook_sees_a_new_kernel_and_imports_stay(tmp_path):
    leaves = _notebook(tmp_path, "leaves",
                       "import os, warnings\nimport matplotlib, matplotlib.pyplot as plt\n"
                       "left_behind = 1\nmatplotlib.rcParams['lines.linewidth'] = 9\nfig = plt.figure()\n"
                       "plt.plot([1, 2])\nwarnings.warn('shown in every notebook')\nprint('pid', os.getpid())")
    finds = _notebook(tmp_path, "finds",
                      "import os, sys, warnings\nimport matplotlib, matplotlib.pyplot as plt\n"
                      "print('left_behind' in dir(), matplotlib.rcParams['lines.linewidth'], len(plt.get_fignums()))\n"
                      "print('analyses imported', 'ccinsight.analyses' in sys.modules)\n"
                      "print('tables kept', sys.modules['ccinsight.data'].CHECKED_BYTES > 0)\n"
                      "import gc\nprint('imports frozen', gc.get_freeze_count() > 10_000)\n"
                      "import pyarrow\nprint('arrow allocates by', pyarrow.default_memory_pool().backend_name)\n"
                      "plt.plot([2, 1])\nwarnings.warn('shown in every notebook')\nprint('pid', os.getpid())")
    first, second, third = _in_one_kernel((leaves, tmp_path / "a"), (finds, tmp_path / "b"), (leaves, tmp_path / "c"))
    assert first.status == second.status == third.status == "ok"
    texts = {}
    for name, out in (("leaves", "a"), ("finds", "b"), ("leaves3", "c")):
        nb, outputs = _outputs(tmp_path / out, name.rstrip("3"))
        assert [c.execution_count for c in nb.cells] == list(range(1, len(nb.cells) + 1))  # counts from 1
        assert any("image/png" in o.get("data", {}) for o in outputs), name  # figures are shown
        assert any(o.get("name") == "stderr" and "shown in every notebook" in o["text"] for o in outputs), name
        texts[name] = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    # same kernel process, nothing of the first notebook visible to the second
    pids = {name: text.split("pid ")[1].split()[0] for name, text in texts.items()}
    assert len(set(pids.values())) == 1
    default_width = str(__import__("matplotlib").rcParamsDefault["lines.linewidth"])
    assert f"False {default_width} 0" in texts["finds"]
    assert "analyses imported True" in texts["finds"]  # imported ahead, once per kernel
    assert "tables kept True" in texts["finds"]  # checked tables are kept for the next notebooks
    assert "imports frozen True" in texts["finds"]  # out of the garbage collector's sight
    assert "arrow allocates by system" in texts["finds"]  # freed memory is not kept by Arrow's allocator


def test_a_kept_kernel_draws_each_figure_once_and_shows_the_same_picture(tmp_path):
    # the control is a notebook's own kernel (``ccinsight run``), where pyplot's after-cell hook
    # renders each open figure before the inline backend draws it again for its image
    draws = _notebook(tmp_path, "draws",
                      "import matplotlib.pyplot as plt\ndrawn = []\nfig, ax = plt.subplots()\nax.plot([1, 3, 2])\n"
                      "fig.canvas.mpl_connect('draw_event', lambda event: drawn.append(1))",
                      "print('drawn', len(drawn))")
    kept, = _in_one_kernel((draws, tmp_path / "kept"))
    own = runner.run(str(draws), out=tmp_path / "own")
    assert kept.status == own.status == "ok"
    shown, counts = {}, {}
    for out in ("kept", "own"):
        _, outputs = _outputs(tmp_path / out, "draws")
        shown[out] = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        counts[out] = int("".join(o.get("text", "") for o in outputs).split("drawn ")[1].split()[0])
    assert len(shown["kept"]) == 1 and shown["kept"] == shown["own"]  # shown, and the same picture
    assert 1 <= counts["kept"] < counts["own"], counts


def test_a_kept_kernel_s_notebooks_share_one_connected_client(tmp_path):
    works = _notebook(tmp_path, "works", "print('ok')")
    kernel = runner.kept_kernel()
    try:
        kernel.start()
        client = kernel.km.kept_client
        for out in ("a", "b"):
            assert runner.run(str(works), out=tmp_path / out, kernel=kernel).status == "ok"
        assert kernel.km.kept_client is client and client.channels_running
        assert kernel.km.client() is client  # what papermill asks the manager for
    finally:
        kernel.close()
    assert not client.channels_running


def test_a_failed_notebook_hands_the_next_one_a_new_kernel(tmp_path):
    fails = _notebook(tmp_path, "fails", "import os\nprint('pid', os.getpid())", "1 / 0")
    works = _notebook(tmp_path, "works", "import os\nprint('pid', os.getpid())")
    failed, ok, again = _in_one_kernel((fails, tmp_path / "a"), (works, tmp_path / "b"), (works, tmp_path / "c"))
    assert (failed.status, ok.status, again.status) == ("failed", "ok", "ok")
    pid = {k: "".join(o.get("text", "") for o in _outputs(tmp_path / k, n)[1]).split("pid ")[1].split()[0]
           for k, n in (("a", "fails"), ("b", "works"), ("c", "works"))}
    assert pid["a"] != pid["b"] == pid["c"]


def test_the_executed_notebook_is_written_when_a_run_starts_and_ends_not_per_cell(tmp_path, monkeypatch):
    import papermill.engines

    writes = []
    real = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: (writes.append(path), real(nb, path)))
    many = _notebook(tmp_path, "many", *(f"x = {i}" for i in range(20)))
    result = runner.run(str(many), out=tmp_path / "out")
    assert result.status == "ok"
    assert len(writes) == 2  # papermill's default writes twice per cell: 44 here
    nb, _ = _outputs(tmp_path / "out", "many")
    assert all(c.metadata.papermill["status"] == "completed" and c.metadata.papermill["duration"] is not None
               for c in nb.cells)  # every cell's record is in the final write
