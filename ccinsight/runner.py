"""Running one notebook: check parameters, execute with papermill, render, collect findings.

``run`` writes three files into the output folder, each moved into place only when
complete: ``NAME.ipynb`` (the executed notebook, papermill's record of parameters and
timings), ``NAME.html`` (the reviewer's rendering) and ``findings.json``.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ccinsight import findings as findings_mod
from ccinsight import leftovers
from ccinsight import params as params_mod
from ccinsight.config import KERNEL_NAME, cli_path, display_path, notebooks_dir, outputs_dir, project_root
from ccinsight.errors import NotebookFailed, ParameterError

#: Seconds a cell's output may take to arrive after the cell finished. papermill makes a late
#: output an error, and nbclient's 4 s default failed a figure of a deck on 100M calls run
#: on a busy machine.
IOPUB_TIMEOUT_S = 120

#: Private folders of kernels' local sockets (in the system's temporary folder).
KERNEL_DIR_PREFIX = "ccinsight-kernel-"

#: Errors raised inside a notebook that are the user's to fix (bad data or parameters).
USER_ERRORS = {"DataError", "ParameterError"}


@dataclass
class RunResult:
    """Where a run wrote, what it found and whether it succeeded."""

    notebook: str
    out_dir: Path
    parameters: dict[str, Any]
    findings: dict[str, Any]
    status: str  # "ok" | "failed"
    duration_s: float
    error: str | None = None
    error_name: str | None = None
    files: dict[str, Path] = field(default_factory=dict)


def available_notebooks() -> list[str]:
    """Names of the notebooks in ``notebooks/``."""
    return sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))


def resolve_notebook(name: str) -> Path:
    """A notebook name (``data_overview``), file name or path (relative to the current
    folder) -> its path."""
    folder = notebooks_dir()
    candidates = [cli_path(name), folder / name, folder / f"{name}.ipynb"]
    for path in candidates:
        if path.suffix == ".ipynb" and path.is_file():
            return path
    raise ParameterError(f"No notebook named '{name}'. Available: {', '.join(available_notebooks())}.")


def resolve_parameters(notebook: Path, given: Mapping[str, Any], where: str) -> tuple[dict, dict]:
    """Check ``given`` against the notebook; return (checked values, all values in effect)."""
    accepted = params_mod.notebook_parameters(notebook)
    checked = params_mod.check_parameters(given, accepted, where)
    effective = {name: p.default for name, p in accepted.items()}
    effective.update(checked)
    return checked, effective


def audit_facts(found: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, str]:
    """Run-record rows: the data the notebook read (with fingerprints), skipped tables,
    what a source mapping did, and the versions that produced the numbers."""
    from ccinsight import audit

    facts = {}
    tables = list(found.get("data_sources") or {}) or None
    try:
        inputs = audit.input_files(str(parameters.get("data") or "data/synthetic"), parameters.get("sources"), tables)
    except Exception:  # the run already reported bad inputs; the record must not fail on them
        inputs = []
    if inputs:
        facts["data"] = "; ".join(
            f"{i['table']}: {i['source']}" if "source" in i else
            f"{i['table']}: {i['file']} ({i['bytes']:,} bytes" + (f", {i['rows']:,} rows" if "rows" in i else "")
            + f", SHA-256 {i['sha256']})" for i in inputs)
    elif found.get("data_sources"):
        facts["data"] = "; ".join(f"{t}: {where}" for t, where in found["data_sources"].items())
    if found.get("data_skipped"):
        facts["skipped for lack of data"] = "; ".join(f"{t} ({why})" for t, why in found["data_skipped"].items())
    if found.get("data_notes"):
        facts["data mapping"] = " ".join(found["data_notes"])
    from ccinsight.privacy import pseudonym_key_source

    facts["pseudonym key"] = pseudonym_key_source()
    facts["versions"] = ", ".join(f"{k} {v}" for k, v in audit.versions().items())
    commit = audit.git_commit()
    if commit:
        facts["code commit"] = commit
    return facts


def _local_kernel_manager():
    """Kernels talk to the runner over local sockets (IPC), not TCP ports: nothing is
    reachable from the network, and ipykernel has no reason to warn about encryption."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class LocalKernelManager(AsyncKernelManager):
        #: The client a kept kernel talks through (:class:`ccinsight.kernels.KeptKernel`); None: a
        #: new client per run, as papermill expects
        kept_client = None

        @default("transport")
        def _default_transport(self):
            return "ipc"

        @default("ip")
        def _default_ip(self):
            # a private folder per kernel: concurrent runs must never share socket files; it
            # holds a lock while this run lives, so the next start clears it if this one is killed
            folder, self._folder_lock = leftovers.private_folder(KERNEL_DIR_PREFIX)
            return os.path.join(folder, "kernel")

        @default("connection_file")
        def _default_connection_file(self):
            # beside the sockets, so a killed run's litter is one folder the next start clears
            return os.path.join(os.path.dirname(self.ip), "connection.json")

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel's own stderr (e.g. socket errors as it dies) goes to a log file, not
            # into the user's terminal; what went wrong is reported by the runner
            log = open(os.path.join(os.path.dirname(self.ip), "kernel.log"), "ab")  # noqa: SIM115
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            try:
                return await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                log.close()  # the kernel process holds its own descriptor

        def client(self, **kwargs):
            # each notebook run in a kept kernel gets the kernel's one connected client: a new one
            # takes 0.2-0.5 s to connect (the wait for its first IOPub message), per notebook
            if self.kept_client is not None:
                return self.kept_client
            return super().client(**kwargs)

        def cleanup_ipc_files(self):
            super().cleanup_ipc_files()
            shutil.rmtree(os.path.dirname(self.ip), ignore_errors=True)
            if getattr(self, "_folder_lock", None) is not None:
                self._folder_lock.release()

    return LocalKernelManager


#: The papermill engine runs use (:func:`_engine`).
ENGINE = "ccinsight"


@functools.cache
def _engine() -> str:
    """Register (once) and name papermill's nbclient engine, writing the executed notebook
    when the run starts and when it ends, however it ends (papermill's ``finally``: also after
    an error, a timeout or a dead kernel), and every 30 s while a cell runs; not twice per
    cell. A full write per cell start and end cost about 10 ms each, ~1.3 s of a month's
    deck of ~130 cells."""
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    def unsaved(change):
        """``change`` (a cell's start or end), without the write papermill makes after it."""
        def run(self, *args, **kwargs):
            self.writing = False
            try:
                return change(self, *args, **kwargs)
            finally:
                self.writing = True
        return run

    class WrittenAtEnds(NotebookExecutionManager):
        writing = True
        cell_start = unsaved(NotebookExecutionManager.cell_start)
        cell_complete = unsaved(NotebookExecutionManager.cell_complete)

        def save(self, **kwargs):
            if self.writing:
                super().save(**kwargs)

    class Engine(NBClientEngine):
        @classmethod
        def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                             autosave_cell_every=30, **kwargs):
            # papermill's own wrapper (Engine.execute_notebook), with the manager above
            nb_man = WrittenAtEnds(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                                   autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

    papermill_engines.register(ENGINE, Engine)
    return ENGINE


def _kernel_name() -> str:
    """The ``ccinsight`` kernel the notebooks name, when registered (``make`` does, in the
    venv); else ``python3``, which jupyter_client resolves to the interpreter running this
    code (e.g. a wheel installed into a fresh venv, where nobody registered a kernel)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return KERNEL_NAME if KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


def run(notebook: str, parameters: Mapping[str, Any] | None = None, out: str | Path | None = None,
        *, where: str = "command line", timeout_s: int | None = None, kernel=None) -> RunResult:
    """Execute one notebook with checked parameters and write its outputs.

    Parameters
    ----------
    notebook
        Name in ``notebooks/`` or a path to an ``.ipynb``.
    parameters
        Values for the notebook's parameters cell; unknown names and wrong types are
        refused before anything runs.
    out
        Output folder (default ``outputs/NAME`` in the project folder); a relative path
        starts at the current folder.
    where
        Where the parameters came from, for messages.
    timeout_s
        Per-cell execution timeout.
    kernel
        A :class:`ccinsight.kernels.KeptKernel` to run in (a deck's worker keeps one); None:
        a new kernel for this run.

    Returns
    -------
    RunResult
        Also when a cell failed (``status == "failed"``); the executed notebook then
        shows the error. Callers decide how to report it; see :func:`run_or_raise`.
    """
    path = resolve_notebook(notebook)
    name = path.stem
    # parameters were checked strictly above, and timeouts / dead kernels are reported below
    # in one sentence, not as papermill's log lines
    logging.getLogger("papermill").setLevel(logging.CRITICAL)
    checked, effective = resolve_parameters(path, parameters or {}, where)
    if checked.get("sources"):
        from ccinsight.sources import parse

        parse(checked["sources"], where)  # mistakes in the mapping's shape stop here, before a kernel starts
    if checked.get("labels"):
        from ccinsight.labels import parse as parse_labels

        parse_labels(checked["labels"], where)
    out_dir = cli_path(out) if out else outputs_dir() / name
    leftovers.clear_stale(Path(tempfile.gettempdir()), KERNEL_DIR_PREFIX)  # killed runs' kernel folders
    # one run at a time writes these outputs; it clears what killed runs left in the folder
    with leftovers.exclusive(out_dir, name, f"{name}'s outputs in {display_path(out_dir)}", _say):
        return _execute(path, checked, effective, out_dir, timeout_s, kernel)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def kept_kernel():
    """A :class:`ccinsight.kernels.KeptKernel` of the kernel the notebooks run in."""
    from ccinsight.kernels import KeptKernel

    return KeptKernel(_kernel_name(), _local_kernel_manager(), str(project_root()))


def _execute(path: Path, checked: dict, effective: dict, out_dir: Path, timeout_s: int | None,
             kernel=None) -> RunResult:
    """Execute the notebook into a temporary folder of ``out_dir``, then move its files into place."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    name = path.stem
    tmp = Path(tempfile.mkdtemp(prefix=leftovers.temp_name(name), dir=out_dir))
    started = time.perf_counter()
    error = error_name = None
    completed = False
    try:
        try:
            kept = {"km": kernel.manager()} if kernel is not None else {}
            papermill.execute_notebook(
                str(path), str(tmp / f"{name}.ipynb"), parameters=checked, kernel_name=_kernel_name(),
                cwd=str(project_root()), progress_bar=False, log_output=False, execution_timeout=timeout_s,
                kernel_manager_class=_local_kernel_manager(), iopub_timeout=IOPUB_TIMEOUT_S, engine_name=_engine(),
                **kept,
            )
            completed = True
        except PapermillExecutionError as err:
            error_name = err.ename
            first_line = next((ln for ln in (err.source or "").splitlines() if ln.strip()), "")
            error = f"cell {err.exec_count} (`{first_line.strip()[:60]}`) raised {err.ename}: {err.evalue}"
        except CellTimeoutError as err:
            error_name = "CellTimeout"
            if "IOPub" in str(err):  # the cell finished, but its output (e.g. a figure) did not arrive in time
                error = (f"the output of {_running_cell(tmp / f'{name}.ipynb')} did not arrive within "
                         f"{IOPUB_TIMEOUT_S} s of the cell finishing (the machine too busy?); run it again")
            else:
                error = (f"{_running_cell(tmp / f'{name}.ipynb')} ran longer than the per-cell timeout of "
                         f"{timeout_s} s and was stopped")
        except DeadKernelError:
            error_name = "DeadKernel"
            error = (f"the kernel died while running {_running_cell(tmp / f'{name}.ipynb')} (out of memory, or "
                     "the process was killed); the notebook stops there")
        finally:
            if kernel is not None:
                kernel.done(ok=completed)  # after any failure the next notebook gets a new kernel
        duration = time.perf_counter() - started
        import nbformat  # slow to import (schema validators): only once a notebook has run

        written = tmp / f"{name}.ipynb"
        executed = nbformat.read(written if written.exists() else path, as_version=4)
        if error_name in ("CellTimeout", "DeadKernel"):  # papermill saved no error output: add one
            executed.cells.append(nbformat.v4.new_markdown_cell(f"**This run failed:** {error}."))
            nbformat.write(executed, written)
        found = findings_mod.collect(executed.cells)
        if not error:
            problem = check_findings(name, found)
            if problem:
                error_name, error = "FindingsError", problem
        from ccinsight.report import render_html  # nbconvert is slow to import: only when rendering

        extra = {"notebook": f"notebooks/{path.name}", "status": "failed: " + error if error else "ok",
                 "duration": f"{duration:.1f} s", **audit_facts(found, effective)}
        shown = {**effective, "data": "(not used: sources given)"} if effective.get("sources") else effective
        from ccinsight.analyses import REGISTRY

        title = REGISTRY[name].title if name in REGISTRY else name  # the page's title: the question it answers
        (tmp / f"{name}.html").write_text(render_html(executed, title, shown, extra), encoding="utf-8")
        (tmp / "findings.json").write_text(findings_mod.dumps(found), encoding="utf-8")
        files = {"ipynb": out_dir / f"{name}.ipynb", "html": out_dir / f"{name}.html",
                 "findings": out_dir / "findings.json"}
        for target in files.values():
            os.replace(tmp / target.name, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return RunResult(notebook=name, out_dir=out_dir, parameters=effective, findings=found,
                     status="failed" if error else "ok", duration_s=duration, error=error,
                     error_name=error_name, files=files)


def check_findings(name: str, found: Mapping[str, Any]) -> str | None:
    """What is wrong with a registered analysis' recorded findings against its declared class, or None."""
    from ccinsight.analyses import REGISTRY

    if name not in REGISTRY:
        return None
    recorded, _ = findings_mod.split(found)
    try:
        REGISTRY[name].findings.from_json(recorded)
    except findings_mod.FindingsError as err:
        return f"the recorded findings do not fit {REGISTRY[name].findings.__name__}: {err}"
    return None


def _running_cell(ipynb: Path) -> str:
    """'cell N (`first line`)' for the cell papermill was running when it stopped."""
    try:
        cells = json.loads(ipynb.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return "a cell"
    started = [i for i, c in enumerate(cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    if not started:  # papermill marks every cell done when it stops: the last one started is it
        return "a cell"
    cell = cells[started[-1]]
    src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    first = next((ln.strip() for ln in src.splitlines() if ln.strip()), "")
    return f"cell {started[-1] + 1} (`{first[:60]}`)"


def run_or_raise(notebook: str, parameters: Mapping[str, Any] | None = None,
                 out: str | Path | None = None, **kwargs) -> RunResult:
    """Like :func:`run`, raising :class:`NotebookFailed` when a cell failed."""
    result = run(notebook, parameters, out, **kwargs)
    if result.status == "failed":
        err = NotebookFailed(f"{result.notebook} failed: {result.error.rstrip('.')}. The executed notebook with the "
                             f"error is {display_path(result.files.get('ipynb', result.out_dir))}.")
        err.error_name = result.error_name
        raise err
    return result
