"""The monthly insight deck: every analysis notebook for a month, run in parallel, plus an
index a contact-center manager reads in five minutes.

``ccinsight deck`` validates the deck's params file as a whole, runs the notebooks through
one executor interface (a local process pool, or a Dask cluster), and writes
``outputs/<deck>/<YYYY-MM>/``: each notebook's executed ``.ipynb`` and reviewer ``.html``,
one merged ``findings.json``, ``manifest.json`` and ``index.html``. The deck is assembled
in a hidden temporary folder and moved into place only when complete. Without ``--force`` a
rerun reuses each notebook whose inputs (SHA-256), resolved parameters and code are what the
deck in place recorded (:func:`compare`), and keeps a deck with nothing changed as it is; a
deck with a failed notebook never replaces a good one, and one run at a time builds a given
month (a file lock; a second run waits).
"""
from __future__ import annotations

import datetime as dt
import errno
import html
import json
import multiprocessing.util
import os
import re
import shutil
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from ccinsight import __version__
from ccinsight import audit
from ccinsight import findings as findings_mod
from ccinsight import period as period_mod
from ccinsight.period import parse_months
from ccinsight import wording
from ccinsight.analyses import REGISTRY
from ccinsight.analysis import SHARED_PARAMETERS
from ccinsight.config import MIN_CELL_SIZE, cli_path, display_path, monthly_params, outputs_dir
from ccinsight.credentials import redact
from ccinsight import archive, leftovers, memory
from ccinsight.privacy import DEFAULT_KEY_WARNING, KEY_ENV, pseudonym_key_source
from ccinsight.errors import CCInsightError, OutputError, ParameterError, excerpt
from ccinsight.stats import mover_difference

SHARED_KEYS = {"deck": str, "data": str, "sources": dict, "labels": dict, "month": (str, type(None)),
               "min_cell_size": int, "notebooks": dict}


# --------------------------------------------------------------------------- params
@dataclass(frozen=True)
class DeckPlan:
    """A validated deck: what runs, with which parameters, into which folder."""

    name: str
    data: str
    months: tuple[pd.Period, ...]
    runs: dict[str, dict[str, Any]]  # analysis -> parameters (without the month)
    sources: dict[str, Any]  # the params' sources section, {} when the data folder is read
    min_cell_size: int
    source: str


def load_plan(params_file: str | Path | None = None, month: str | None = None, months: str | None = None) -> DeckPlan:
    """Read and validate a deck params file as a whole, before anything runs.

    ``params_file`` is a path given on the command line (relative to the current folder);
    default the project's ``params/monthly.yaml``.
    """
    from ccinsight.params import check_min_cell_size, check_parameters, notebook_parameters, read_params_file

    path = cli_path(params_file) if params_file else monthly_params()
    where = f"params file {display_path(path)}"
    raw = read_params_file(path)
    unknown = [k for k in raw if k not in SHARED_KEYS]
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {', '.join(excerpt(str(k), 40).strip(chr(39)) for k in unknown)};"
                             f" valid keys: {', '.join(SHARED_KEYS)}.")
    for key, types in SHARED_KEYS.items():
        if key in raw and (not isinstance(raw[key], types) or isinstance(raw[key], bool)):
            kind = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
            raise ParameterError(f"{where}: '{key}' must be {kind}, got {excerpt(raw[key])}.")
    if "min_cell_size" in raw:
        check_min_cell_size(raw["min_cell_size"], where)
    name = raw.get("deck", "monthly")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ParameterError(f"{where}: deck name {name!r} may hold only letters, digits, '-' and '_'.")
    sections = raw.get("notebooks", {name: {} for name in REGISTRY})
    shared = {k: raw[k] for k in SHARED_PARAMETERS if k in raw and k != "month"}
    runs = {}
    for nb, values in sections.items():
        if nb not in REGISTRY:
            raise ParameterError(f"{where}: unknown notebook section '{nb}'; valid: {', '.join(REGISTRY)}.")
        values = values or {}
        if not isinstance(values, dict):
            raise ParameterError(f"{where}: section '{nb}' must be a mapping of parameter: value.")
        fixed = set(SHARED_PARAMETERS) & set(values)
        if fixed:
            raise ParameterError(f"{where}: section '{nb}' sets {', '.join(sorted(fixed))}; the deck sets "
                                 f"{', '.join(SHARED_PARAMETERS)} once, at the top, for every notebook (the month "
                                 "from 'month', --month or --months).")
        accepted = notebook_parameters(REGISTRY[nb].notebook)
        runs[nb] = check_parameters({**shared, **values}, accepted, f"{where}, section '{nb}'")
    if months:
        chosen = parse_months(months)
    elif month or raw.get("month"):
        chosen = (period_mod.parse_month(month or raw["month"], "--month" if month else where),)
    else:
        chosen = ()
    if raw.get("labels"):
        from ccinsight.labels import parse as parse_labels

        parse_labels(raw["labels"], where)  # a mistake in the words stops here, before anything runs
    sources = {}
    if raw.get("sources"):
        from ccinsight.sources import parse

        sources = parse(raw["sources"], where)
    return DeckPlan(name=name, data=str(raw.get("data", "data/synthetic")), months=chosen, runs=runs,
                    sources=sources, min_cell_size=int(raw.get("min_cell_size", MIN_CELL_SIZE)),
                    source=display_path(path))


def check_inputs(plan: DeckPlan, months: tuple[pd.Period, ...], parent: Path | None = None
                 ) -> tuple[pd.Period, ...]:
    """Check every input against the contract and the months against the data, before
    anything runs: bad data or a month without data ends here (exit 2), with no deck
    written. Returns the months to build (default: the latest complete month). With
    ``parent`` (the deck's output folder), a passed check is remembered there with the
    inputs' fingerprints, so a rerun on the same inputs and code need not read them again."""
    from ccinsight import data as data_mod

    key = _inputs_key(plan, audit.input_files(plan.data, plan.sources)) if parent is not None else None
    # the months are judged on every row as read; each notebook then cuts at its month's end
    if plan.sources:
        ds = data_mod.load(plan.data, [], optional=list(plan.sources), sources=plan.sources, as_observed=False)
    else:
        ds = data_mod.load(plan.data, as_observed=False)
    first, latest = ds.first_day().to_period("M"), ds.latest_complete_month()
    chosen = _months_in(plan, first, latest, ", ".join(ds.sources.values()) if plan.sources else plan.data, months)
    if key is not None:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".checked.json.{os.getpid()}"
        tmp.write_text(json.dumps({"key": key, "first": str(first), "latest": str(latest)}), encoding="utf-8")
        os.replace(tmp, parent / ".checked.json")
        data_mod.leave_counts(ds, counts_folder(parent))
    return chosen


def _months_in(plan: DeckPlan, first: pd.Period, latest: pd.Period, where: str = "",
               months: tuple[pd.Period, ...] | None = None) -> tuple[pd.Period, ...]:
    """The months asked for (default the plan's; none: the latest complete one), each within the data."""
    chosen = (plan.months if months is None else months) or (latest,)
    outside = [str(m) for m in chosen if m < first or m > latest]
    if outside:
        raise ParameterError(f"params file {plan.source}: no complete month of data for {', '.join(outside)}; "
                             f"the data ({where or plan.data}) covers {first} to {latest}.")
    return chosen


def _inputs_key(plan: DeckPlan, inputs: list[dict]) -> str | None:
    """SHA-256 of every input's fingerprint, the data and sources settings and the code; None
    when an input has no fingerprint (a database source: always checked again)."""
    import hashlib

    if not inputs or any("sha256" not in i for i in inputs):
        return None
    text = json.dumps({"inputs": sorted((i["table"], i.get("file", ""), i["sha256"]) for i in inputs),
                       "data": plan.data, "sources": redact(plan.sources or {}), "code": code_version()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def checked_before(plan: DeckPlan, parent: Path, inputs: list[dict]) -> tuple[pd.Period, pd.Period] | None:
    """(first, latest complete month) of the data when they passed the check before with the
    same ``inputs`` (as fingerprinted now) and code; else None."""
    try:
        seen = json.loads((parent / ".checked.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if seen.get("key") is None or seen.get("key") != _inputs_key(plan, inputs):
        return None
    return pd.Period(seen["first"], freq="M"), pd.Period(seen["latest"], freq="M")


# --------------------------------------------------------------------------- execution
def read_by(notebook: str, inputs: list[dict]) -> list[dict]:
    """The fingerprinted inputs a notebook reads (its analysis' tables): what it re-checks."""
    analysis = REGISTRY[notebook]
    return [i for i in inputs if i["table"] in analysis.tables + analysis.optional_tables]


@lru_cache(maxsize=1)
def code_version() -> str:
    """SHA-256 of the package's source (modules and templates) and the notebooks: a deck run
    by other code is not the same run, whatever the version number says. Computed once per
    process (a command)."""
    import hashlib

    import ccinsight
    from ccinsight.config import notebooks_dir

    digest = hashlib.sha256()
    package = Path(ccinsight.__file__).parent
    files = sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".html", ".css", ".tpl",
                                                                                  ".j2", ".json"))
    files += sorted(notebooks_dir().glob("*.ipynb"))
    for f in files:
        digest.update(f.name.encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()


def fingerprint(task: dict, code: str) -> str | None:
    """What a notebook's run depends on: the SHA-256 of every input it reads, its resolved
    parameters and the code. None when an input has no fingerprint (a database source):
    such a notebook always runs again."""
    import hashlib

    if any("sha256" not in i for i in task["inputs"]):
        return None
    inputs = sorted((i["table"], i.get("file", ""), i["sha256"]) for i in task["inputs"])
    text = json.dumps({"inputs": inputs, "parameters": task["parameters"], "code": code}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_sha(path: Path) -> str | None:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def reused(task: dict, final: Path, old: dict, tmp: Path) -> dict:
    """A notebook's result from the deck in place (its inputs, parameters and code unchanged):
    its files copied into the new deck, its findings and timings as they were."""
    nb = task["notebook"]
    for suffix in (".ipynb", ".html"):
        shutil.copy2(final / f"{nb}{suffix}", tmp / f"{nb}{suffix}")
    entry = next(n for n in old["manifest"]["notebooks"] if n["notebook"] == nb)
    return {**entry, "month": task["month"], "findings": old["findings"].get(nb, {}), "output_error": None,
            "reused": True}


def _read_deck(final: Path) -> dict | None:
    """The manifest and findings of the deck in place, or None when unreadable."""
    try:
        return {"manifest": json.loads((final / "manifest.json").read_text(encoding="utf-8")),
                "findings": json.loads((final / "findings.json").read_text(encoding="utf-8"))}
    except (OSError, ValueError):
        return None


def run_task(task: dict) -> dict:
    """Run one notebook of a deck (in a worker process); never raises."""
    from ccinsight import runner

    started = dt.datetime.now(dt.timezone.utc)
    output_error = None
    try:
        result = runner.run(task["notebook"], task["parameters"], task["out"], where=task["where"],
                            timeout_s=task.get("timeout_s"), kernel=_KEPT.get("kernel"))
        status, error, found = result.status, result.error, result.findings
    except CCInsightError as err:
        status, error, found = "failed", str(err), {}
    except OSError as err:  # disk full, no permission: the deck is not written at all (one sentence)
        status, error, found = "failed", f"{err.strerror or err}", {}
        output_error = {"errno": err.errno, "strerror": err.strerror or str(err), "filename": err.filename}
    except Exception as err:  # a dead kernel or a broken environment: report, don't crash the deck
        status, error, found = "failed", f"{type(err).__name__}: {err}", {}
    changed = audit.changed_inputs(task.get("inputs", []))
    if changed and output_error is None:
        status, error = "failed", (f"{changed[0]} changed while the deck ran, so this notebook may have read other "
                                   "data than the deck's record says; rerun the deck when the inputs are stable")
    ended = dt.datetime.now(dt.timezone.utc)
    return {"notebook": task["notebook"], "month": task["month"], "status": status, "error": error,
            "findings": found, "start": started.isoformat(timespec="seconds"), "output_error": output_error,
            "end": ended.isoformat(timespec="seconds"), "duration_s": round((ended - started).total_seconds(), 2)}


#: The kernel a local worker process keeps for the notebooks it runs (:mod:`ccinsight.kernels`).
_KEPT: dict[str, Any] = {}


def _warm_up() -> None:
    """Import papermill and nbconvert once per worker process, not once per notebook; keep
    one kernel for the worker's notebooks; end the worker when the deck's process is gone."""
    leftovers.watch_parent()
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    from ccinsight import report, runner

    report._exporter()
    kernel = _KEPT["kernel"] = runner.kept_kernel()
    # multiprocessing's workers end without atexit; its finalizers run (the kernel also ends
    # by itself when its worker is gone)
    multiprocessing.util.Finalize(kernel, kernel.close, exitpriority=10)
    try:
        kernel.start()  # while the deck checks its inputs
    except Exception:  # noqa: S110 - the first notebook tries again, and reports what fails
        pass


def _ready() -> None:
    """A no-op: submitting one per worker starts the workers (and their warm-up)."""


class LocalExecutor:
    """A pool of local worker processes, started early so their warm-up overlaps the
    deck's input checks in the main process."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> "LocalExecutor":
        self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_warm_up)
        for _ in range(self.jobs):
            self.pool.submit(_ready)
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(cancel_futures=True)

    def run(self, tasks: list[dict]) -> Iterator[dict]:
        futures = [self.pool.submit(run_task, t) for t in tasks]
        for f in as_completed(futures):
            yield f.result()


class DaskExecutor:
    """Workers of a Dask distributed cluster (they must see the project and the data)."""

    def __init__(self, address: str):
        self.address = address

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def run(self, tasks: list[dict]) -> Iterator[dict]:
        from dask.distributed import Client, as_completed as dask_completed

        with Client(self.address, timeout="30s") as client:
            futures = client.map(run_task, tasks, pure=False)
            for f in dask_completed(futures):
                yield f.result()


def make_executor(jobs: int | None, scheduler: str | None):
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(jobs or os.cpu_count() or 1)


# --------------------------------------------------------------------------- files
def _first_image(ipynb: Path) -> str | None:
    """The first PNG a notebook produced (base64), its key figure for the index."""
    try:
        nb = json.loads(ipynb.read_text())
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                return png if isinstance(png, str) else "".join(png)
    return None


# --------------------------------------------------------------------------- the index
def read_findings(notebook: str, recorded: dict | None):
    """A notebook's recorded findings as its analysis' Findings (None when it recorded none)."""
    found, _ = findings_mod.split(recorded or {})
    return REGISTRY[notebook].findings.from_json(found) if found else None


def headlines(notebook: str, recorded: dict) -> list[str]:
    """The headline sentences of a notebook's findings: the same method its narrative uses."""
    found = read_findings(notebook, recorded)
    return found.headlines() if found else []


#: The rule for a coloured arrow, as the page states it.
CHANGE_RULE = ("An arrow is coloured only when the 95% interval of the change excludes zero (MOVER interval from "
               "the two months' own intervals, taken as independent; consecutive months share most of their data, "
               "so this errs towards 'no clear change').")


def changes(notebook: str, now: dict, before: dict | None) -> list[tuple[str, str]]:
    """Tracked metrics against the previous month: (css class, text) each; a change is
    shown as one only when it is beyond noise (see :data:`CHANGE_RULE`)."""
    if not before:
        return []
    analysis = REGISTRY[notebook]
    cls = analysis.findings
    out = []
    for t in analysis.tracked:
        a, b = now.get(t.field), before.get(t.field)
        if not a or not b or a.get("value") is None or b.get("value") is None:
            continue
        unit = next(f["unit"] for f in cls.schema() if f["name"] == t.field)
        if None in (a["low"], a["high"], b["low"], b["high"]):
            continue
        d, low, high = mover_difference(a["value"], a["low"], a["high"], b["value"], b["low"], b["high"])
        fmt = {"share": wording.points, "count": lambda x: f"{x:+,.0f}"}.get(unit, lambda x: f"{x:+.2f}")
        text = f"{t.label} {fmt(d)} (95% CI {fmt(low)} to {fmt(high)})"
        if low > 0 or high < 0:
            up = d > 0
            css = "good" if up == t.higher_is_better else "bad"
            out.append((css, f"{'&#9650;' if up else '&#9660;'} {html.escape(text)}"))
        else:
            out.append(("flat", f"&#9644; {html.escape(t.label)}: no clear change ({html.escape(fmt(d))}, 95% CI "
                                f"{html.escape(fmt(low))} to {html.escape(fmt(high))})"))
    return out


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .meta{color:#666;font-size:.9em} section{border-top:1px solid #ddd;padding:1em 0}
.status{display:inline-block;padding:.1em .6em;border-radius:1em;font-size:.8em;color:#fff}
.ok{background:#2e7d32}.failed{background:#c62828} ul{margin:.4em 0} li{margin:.2em 0}
.changes span{margin-right:1.2em;font-size:.9em}.good{color:#2e7d32}.bad{color:#c62828}.flat{color:#777}
.act{color:#8a4b00} .rule{color:#555;font-size:.85em;border-left:3px solid #ddd;padding-left:.6em}
img{max-width:100%;height:auto;border:1px solid #eee} .row{display:flex;gap:1.5em;flex-wrap:wrap}
.row>div{flex:1 1 420px} pre{white-space:pre-wrap;background:#fff3f3;padding:.6em;font-size:.85em}
@media print{body{margin:0;max-width:none} section{break-before:page} #summary{break-before:auto}
 img{break-inside:avoid;max-height:60vh} li{break-inside:avoid} a{color:inherit;text-decoration:none}}
"""


def _summary(results: list[dict], moved: dict[str, list[tuple[str, str]]], previous: dict | None) -> str:
    """The page's opening: failures first, then targets missed and actions asked for, then
    what changed beyond noise since last month; each item links to its section."""
    esc = html.escape
    items = [f"<li class='bad'><a href='#{r['notebook']}'>{esc(REGISTRY[r['notebook']].title)}</a> failed; its "
             "findings are missing from this deck.</li>" for r in results if r["status"] != "ok"]
    for r in results:
        found = read_findings(r["notebook"], r["findings"]) if r["status"] == "ok" else None
        for kind, text in found.attention() if found else []:
            css = "bad" if kind == "missed target" else "act"
            items.append(f"<li class='{css}'><strong>{esc(kind.capitalize())}:</strong> {esc(text)} "
                         f"(<a href='#{r['notebook']}'>{esc(REGISTRY[r['notebook']].title)}</a>)</li>")
    clear = [(nb, css, text) for nb, lines in moved.items() for css, text in lines if css != "flat"]
    items += [f"<li class='{css}'>{text} (<a href='#{nb}'>{esc(REGISTRY[nb].title)}</a>)</li>" for nb, css, text in clear]
    flat = sum(css == "flat" for lines in moved.values() for css, _ in lines)
    if previous is None:
        items.append("<li>No deck for the month before to compare with.</li>")
    elif flat:
        items.append(f"<li class='flat'>{flat} tracked metric(s) show no clear change since {esc(previous['month'])}."
                     "</li>")
    return f"<section id='summary'><h2>At a glance</h2><ul>{''.join(items)}</ul></section>"


def render_index(name: str, month: str, results: list[dict], previous: dict | None, folder: Path,
                 manifest: dict) -> str:
    """The deck's index page: self-contained (inline CSS, embedded figures), works offline."""
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(name)} deck {month}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<main><h1>Contact-center insight deck: {esc(month)}</h1>",
             f"<p class='meta'>Deck '{esc(name)}' · data {esc(manifest['parameters']['data'])} · generated "
             f"{esc(manifest['created'])} · ccinsight {esc(__version__)}"
             + (f" · compared with {esc(previous['month'])}" if previous else " · no earlier month to compare with")
             + " · <a href='../index.html'>all months</a></p>"]
    order = {nb: i for i, nb in enumerate(REGISTRY)}
    results = sorted(results, key=lambda r: order.get(r["notebook"], 99))
    before = (previous or {}).get("findings", {})
    moved = {r["notebook"]: changes(r["notebook"], r["findings"], before.get(r["notebook"]))
             for r in results if r["status"] == "ok"}  # a failed notebook recorded no findings
    parts.append(_summary(results, moved, previous))
    for r in results:
        nb = r["notebook"]
        failed = r["status"] != "ok"
        badge = f" <span class='status failed'>{esc(r['status'])}</span>" if failed else ""
        parts.append(f"<section id='{nb}'><h2>{esc(REGISTRY[nb].title)}{badge}</h2>")
        parts.append(f"<p class='meta'><a href='{nb}.html'>full report</a> · "
                     f"<a href='{nb}.ipynb'>executed notebook</a></p>")
        if failed:
            parts.append(f"<pre>{esc(r['error'] or 'failed')}</pre>")
        if moved.get(nb):
            spans = " ".join(f"<span class='{css}'>{text}</span>" for css, text in moved[nb])
            parts.append(f"<p class='changes'>Since {esc(previous['month'])}: {spans}</p>")
        found = None if failed else read_findings(nb, r["findings"])
        lines = "".join(f"<li>{esc(line)}</li>" for line in found.headlines()) if found else ""
        rule = found.rule() if found else None
        lines = f"<ul>{lines}</ul>" + (f"<p class='rule'>{esc(rule)}</p>" if rule else "")
        png = _first_image(folder / f"{nb}.ipynb")
        figure = (f"<div><img alt='Key figure of {esc(REGISTRY[nb].title.rstrip('?'))}: the first figure of its "
                  f"report' src='data:image/png;base64,{png}'></div>") if png else ""
        parts.append(f"<div class='row'><div>{lines}</div>{figure}</div></section>")
    parts.append("<p class='meta'>Every estimate comes with its 95% interval; groups smaller than the minimum "
                 f"cell size ({manifest['parameters'].get('min_cell_size', MIN_CELL_SIZE)}) are pooled or left out. "
                 f"Everything is as of the end of {esc(month)}. {esc(CHANGE_RULE)}</p></main>")
    runs = " · ".join(f"{esc(REGISTRY[r['notebook']].title)} {esc(r['status'])} in {r['duration_s']:.1f} s"
                      + (" (reused: inputs, parameters and code unchanged)" if r.get("reused") else "")
                      for r in results)
    parts.append(f"<footer class='meta'>Runs: {runs}. Inputs, versions and timings: manifest.json. "
                 "<a href='../index.html'>All months</a></footer></body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- the command
@dataclass
class DeckResult:
    folder: Path
    month: str
    results: list[dict] = field(default_factory=list)
    replaced: bool = False
    kept_as: Path | None = None
    kept_existing: bool = False  # a deck for the month was there already and is kept (no ``force``)
    up_to_date: bool = False  # ... because every notebook's inputs, parameters and code are unchanged

    @property
    def failed(self) -> list[str]:
        return [r["notebook"] for r in self.results if r["status"] != "ok"]


def build_month(plan: DeckPlan, month: pd.Period, out: Path, executor, force: bool, timeout_s: int | None,
                progress: Callable[[str], None], pdf_browser: str | None = None) -> DeckResult:
    """Build one month's deck (:func:`build_months` of one month)."""
    return build_months(plan, (month,), out, executor, force, timeout_s, progress, pdf_browser)[0]


def build_months(plan: DeckPlan, months: tuple[pd.Period, ...], out: Path, executor, force: bool,
                 timeout_s: int | None, progress: Callable[[str], None], pdf_browser: str | None = None
                 ) -> list[DeckResult]:
    """Build the decks of ``months``: the notebooks to run of every month go to the workers
    at once (a backfill's workers are not idle at the end of each month), and each month's
    deck is put together and published as soon as its notebooks, and the month before it,
    are done (its page compares with the month before's findings).

    One run at a time builds a month's deck: a second one waits for the first (saying so),
    then finds its deck in place and keeps it unless ``force``. A failed write (disk full,
    no permission) leaves no trace of the month, and stops the run.
    """
    parent = out / plan.name
    building: dict[pd.Period, tuple[Comparison, Path, list[dict]]] = {}
    done: dict[pd.Period, DeckResult] = {}
    month = months[0]
    try:
        with ExitStack() as locks:
            for month in months:  # in month order, so two runs cannot each wait for the other
                locks.enter_context(leftovers.exclusive(
                    parent, str(month), f"the {plan.name} deck for {month} in {display_path(parent)}", progress))
            for month in months:
                tmp = parent / f"{leftovers.temp_name(str(month))}{os.getpid()}"
                state = compare(plan, month, parent, force, tmp, timeout_s, pdf=pdf_browser is not None)
                if state.keep and not (building and state.up_to_date):
                    done[month] = DeckResult(folder=parent / str(month), month=str(month), kept_existing=True,
                                             up_to_date=state.up_to_date)
                    continue
                # (up to date, but a month before it is rebuilt in this run: its page is made again)
                tmp.mkdir()
                reuse = [reused(t, parent / str(month), state.old, tmp) for t in state.tasks
                         if t["notebook"] in state.same]
                for r in reuse:
                    progress(f"{month} {r['notebook']}: inputs, parameters and code unchanged; reused")
                building[month] = (state, tmp, reuse)
            to_run = [t for state, _, _ in building.values() for t in state.tasks if t["notebook"] not in state.same]
            waiting = [m for m in months if m in building]
            started = time.perf_counter()
            for r in executor.run(to_run) if to_run else ():
                month = pd.Period(r["month"], freq="M")
                state, tmp, results = building[month]
                results.append(r)
                progress(f"[{len(results)}/{len(state.tasks)}] {month} {r['notebook']}: {r['status']} in "
                         f"{r['duration_s']:.1f} s (elapsed {time.perf_counter() - started:.1f} s)")
                while waiting and len(building[waiting[0]][2]) == len(building[waiting[0]][0].tasks):
                    month = waiting.pop(0)
                    done[month] = _put_together(plan, month, parent, *building[month], force, progress, pdf_browser)
            for month in waiting:  # every notebook reused
                done[month] = _put_together(plan, month, parent, *building[month], force, progress, pdf_browser)
    except OSError as err:
        where = display_path(err.filename) if err.filename else display_path(parent)
        raise OutputError(f"Could not write the deck for {month} to {where}: {err.strerror or err}; any earlier "
                          f"deck for {month} is left as it was.") from None
    finally:
        for _, tmp, _ in building.values():
            shutil.rmtree(tmp, ignore_errors=True)  # published decks are gone from here already
    return [done[m] for m in months]


@dataclass
class Comparison:
    """A month's deck in place against what a run now would depend on."""

    inputs: list[dict]
    tasks: list[dict]
    prints: dict[str, str | None]
    before: str | None  # SHA-256 of the month before's findings.json (the index compares with it)
    old: dict | None = None  # the deck in place: manifest and findings
    same: set[str] = field(default_factory=set)  # notebooks whose outputs can be reused
    keep: bool = False  # keep the deck in place as it is
    up_to_date: bool = False  # ... because nothing it depends on changed


def compare(plan: DeckPlan, month: pd.Period, parent: Path, force: bool, tmp: Path | None = None,
            timeout_s: int | None = None, pdf: bool = False, inputs: list[dict] | None = None) -> Comparison:
    """Which notebooks of the deck in place can be kept: those whose inputs (SHA-256),
    resolved parameters and code are what they were at its last successful run. A deck from
    before fingerprints is kept as it is (without ``force``); one without the deck.pdf now
    asked for (``pdf``) is rebuilt."""
    final = parent / str(month)
    if inputs is None:
        inputs = audit.input_files(plan.data, plan.sources)  # fingerprinted before any notebook starts
    work = tmp or parent / ".work"
    tasks = [{"notebook": nb, "month": str(month), "out": str(work / ".work" / nb), "timeout_s": timeout_s,
              "where": f"params file {plan.source}, section '{nb}'", "inputs": read_by(nb, inputs),
              "parameters": {**values, "month": str(month)}} for nb, values in plan.runs.items()]
    code = code_version()
    state = Comparison(inputs, tasks, {t["notebook"]: fingerprint(t, code) for t in tasks},
                       _file_sha(parent / str(month - 1) / "findings.json"))
    if force or not final.exists():
        return state
    state.old = _read_deck(final)
    stored = (state.old or {}).get("manifest", {}).get("fingerprints")
    if stored is None:  # a deck from before fingerprints, or unreadable: kept as it was
        state.keep = not pdf or (final / "deck.pdf").exists()
        return state
    ok = {n["notebook"] for n in state.old["manifest"].get("notebooks", []) if n.get("status") == "ok"}
    state.same = {nb for nb, fp in state.prints.items() if fp is not None and stored.get(nb) == fp and nb in ok
                  and all((final / f"{nb}{sfx}").exists() for sfx in (".ipynb", ".html"))}
    state.up_to_date = state.keep = (state.same == set(state.prints) and set(stored) == set(state.prints)
                                     and state.old["manifest"].get("previous_findings") == state.before
                                     and (not pdf or (final / "deck.pdf").exists()))
    return state


def _put_together(plan: DeckPlan, month: pd.Period, parent: Path, state: Comparison, tmp: Path,
                  results: list[dict], force: bool, progress: Callable[[str], None],
                  pdf_browser: str | None) -> DeckResult:
    """Write a month's deck from its notebooks' results (run or reused) and publish it."""
    final = parent / str(month)
    inputs, tasks, prints, old = state.inputs, state.tasks, state.prints, state.old
    before = _file_sha(parent / str(month - 1) / "findings.json")  # as published, maybe earlier in this run
    failed_write = next((r["output_error"] for r in results if r.get("output_error")), None)
    if failed_write:  # one sentence for the whole deck (build_months), the earlier deck kept
        raise OSError(failed_write["errno"], failed_write["strerror"], failed_write["filename"])
    for r in results:
        work = tmp / ".work" / r["notebook"]
        for suffix in (".ipynb", ".html"):
            f = work / f"{r['notebook']}{suffix}"
            if f.exists():
                os.replace(f, tmp / f.name)
    shutil.rmtree(tmp / ".work", ignore_errors=True)
    order = list(REGISTRY)
    results.sort(key=lambda r: order.index(r["notebook"]))
    merged = {r["notebook"]: r["findings"] for r in results}
    manifest = {
        "deck": plan.name, "month": str(month), "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "ccinsight": __version__, "git_commit": audit.git_commit(), "versions": audit.versions(), "host": socket.gethostname(),
        "pseudonym_key": pseudonym_key_source(),
        "params_file": plan.source,
        "parameters": redact({"data": plan.data, "min_cell_size": plan.min_cell_size,
                              "notebooks": {t["notebook"]: t["parameters"] for t in tasks}}),
        "inputs": inputs,
        "notebooks": [{**{k: r[k] for k in ("notebook", "status", "error", "start", "end", "duration_s")},
                       "reused": bool(r.get("reused"))} for r in results],
        # what each notebook's run depended on (inputs, parameters, code); a rerun skips matching ones
        "fingerprints": prints,
        "previous_findings": before,
    }
    (tmp / "findings.json").write_text(findings_mod.dumps(merged), encoding="utf-8")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    prev_file = parent / str(month - 1) / "findings.json"
    previous = {"month": str(month - 1), "findings": json.loads(prev_file.read_text())} if prev_file.exists() else None
    (tmp / "index.html").write_text(render_index(plan.name, str(month), results, previous, tmp, manifest),
                                    encoding="utf-8")
    if pdf_browser:
        from ccinsight.pdf import write_deck_pdf

        write_deck_pdf(tmp, [r["notebook"] for r in results], pdf_browser)
        progress(f"{month}: deck.pdf printed")
    result = DeckResult(folder=final, month=str(month), results=results)
    if result.failed and final.exists():
        # never replace a complete deck with one that has failures: keep it beside
        kept = parent / f"{month}.failed"
        shutil.rmtree(kept, ignore_errors=True)
        os.replace(tmp, kept)
        result.kept_as = kept
        return result
    try:
        result.replaced = publish(tmp, final, force or old is not None)
    except FileExistsError:  # another run published first (where file locks do not reach, e.g. some NFS)
        return DeckResult(folder=final, month=str(month), kept_existing=True)
    return result


def publish(tmp: Path, final: Path, force: bool) -> bool:
    """Move a complete deck into place; True when it replaced one (only with ``force``).

    Without ``force`` the existence check and the move are one atomic step (a rename onto
    an existing deck fails, raising FileExistsError), so even where the month's file lock
    does not reach, of two runs for the same month only the first publishes.
    """
    if force and final.exists():
        old = final.parent / f"{final.name}.previous"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        return True
    try:
        os.rename(tmp, final)  # fails when final exists and holds a deck
    except OSError as err:
        if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # the deck in place is kept, as if it had been there first
        raise FileExistsError(errno.EEXIST, "a deck is already in place", str(final)) from None
    return False


def counts_folder(parent: Path) -> Path:
    """Where a deck's input check leaves the call table's counts for its kernels."""
    return parent / ".counts" / code_version()[:16]


@contextmanager
def _counts_shared(parent: Path, force: bool) -> Iterator[None]:
    """For the run, have the kernels it starts read back the counts of the call table that
    :func:`check_inputs` leaves (:data:`ccinsight.data.COUNTS_ENV`), rather than check it
    again: :func:`counts_folder`, other code versions' cleared, and all of them with ``force``
    (every table is checked again)."""
    from ccinsight import data as data_mod

    folder = counts_folder(parent)
    if folder.parent.is_dir():
        for old in folder.parent.iterdir():
            if force or old != folder:
                shutil.rmtree(old, ignore_errors=True)
    before = os.environ.get(data_mod.COUNTS_ENV)
    os.environ[data_mod.COUNTS_ENV] = str(folder)  # the workers and kernels started here inherit it
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(data_mod.COUNTS_ENV, None)
        else:
            os.environ[data_mod.COUNTS_ENV] = before


def run_deck(params_file: str | None = None, month: str | None = None, months: str | None = None,
             out: str | None = None, jobs: int | None = None, force: bool = False, scheduler: str | None = None,
             timeout_s: int | None = None, progress: Callable[[str], None] | None = None,
             pdf: bool = False) -> list[DeckResult]:
    """Build the deck for one month, or for each month of a range (with ``pdf``, each also as deck.pdf)."""
    plan = load_plan(params_file, month, months)
    browser = None
    if pdf:
        from ccinsight.pdf import find_browser

        browser = find_browser()  # before anything runs: no Chromium is a usage error
    out_dir = cli_path(out) if out else outputs_dir()
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    if not os.environ.get(KEY_ENV):
        say(DEFAULT_KEY_WARNING)  # on the terminal, and in the manifest's run record
    parent = out_dir / plan.name
    inputs = None if force else audit.input_files(plan.data, plan.sources)
    cached = None if force else checked_before(plan, parent, inputs)
    results = None
    if cached is not None:  # inputs and code as at the last check: are the decks up to date as well?
        months_to_run, kept = _months_in(plan, *cached), []
        for m in months_to_run:  # under the month's lock, which also clears what killed runs left
            with leftovers.exclusive(parent, str(m), f"the {plan.name} deck for {m} in {display_path(parent)}", say):
                if not compare(plan, m, parent, False, pdf=pdf, inputs=inputs).up_to_date:
                    break
            kept.append(DeckResult(folder=parent / str(m), month=str(m), kept_existing=True, up_to_date=True))
        if len(kept) == len(months_to_run):
            results = kept
    if results is None:
        # the kernels read back the call table's counts this check leaves, started after it is set
        with _counts_shared(parent, force), make_executor(jobs, scheduler) as executor:
            # workers warm up while the inputs are checked
            months_to_run = check_inputs(plan, plan.months, parent)
            memory.give_back()  # what the check read, freed: to the system while the kernels work
            results = build_months(plan, months_to_run, out_dir, executor, force, timeout_s, say, browser)
    # once per command, not per month of a backfill: every month's deck and the tracked metrics' trends
    # (replaced in one step, so a concurrent run for another month cannot leave it half-written)
    archive.write(out_dir / plan.name, plan.name, code_version())
    return results
