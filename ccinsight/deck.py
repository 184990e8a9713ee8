"""The monthly insight deck: every analysis notebook for a month, run in parallel, plus an
index a contact-center manager reads in five minutes.

``ccinsight deck`` validates the deck's params file as a whole, runs the notebooks through
one executor interface (a local process pool, or a Dask cluster), and writes
``outputs/<deck>/<YYYY-MM>/``: each notebook's executed ``.ipynb`` and reviewer ``.html``,
one merged ``findings.json``, ``manifest.json`` and ``index.html``. The deck is assembled
in a hidden temporary folder and moved into place only when complete; an existing deck is
never overwritten without ``--force``, and a deck with a failed notebook never replaces a
good one.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from ccinsight import __version__
from ccinsight import audit
from ccinsight import findings as findings_mod
from ccinsight.config import OUTPUTS_DIR, PARAMS_DIR, PROJECT_ROOT, display_path, resolve_path
from ccinsight.errors import CCInsightError, OutputError, ParameterError

#: The analyses of a deck, in the order the index shows them.
NOTEBOOKS = ("data_overview", "training_vs_performance", "script_duration_vs_acceptance", "attrition_survival",
             "hiring_channel_quality")
TITLES = {"data_overview": "What the data covers", "training_vs_performance": "Does training predict performance?",
          "script_duration_vs_acceptance": "How long can an outbound call be?",
          "attrition_survival": "How long do new agents stay?",
          "hiring_channel_quality": "Which hiring channels bring people who stay?"}
SHARED_KEYS = {"deck": str, "data": str, "sources": dict, "month": (str, type(None)), "min_cell_size": int,
               "notebooks": dict}
SECRET = re.compile(r"(password|secret|token|credential|api_key)", re.I)


# --------------------------------------------------------------------------- params
@dataclass(frozen=True)
class DeckPlan:
    """A validated deck: what runs, with which parameters, into which folder."""

    name: str
    data: str
    months: tuple[pd.Period, ...]
    runs: dict[str, dict[str, Any]]  # notebook -> parameters (without month-derived ones)
    sources: dict[str, Any]  # the params' sources section, {} when the data folder is read
    min_cell_size: int
    source: str


def _check_month(value: Any, where: str) -> pd.Period:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ParameterError(f"{where}: month {value!r} is not a month; write it as YYYY-MM, e.g. 2026-10.")
    return pd.Period(value, freq="M")


def parse_months(spec: str, where: str = "--months") -> tuple[pd.Period, ...]:
    """``2025-01:2025-12`` (inclusive) or a single ``2025-01``."""
    first, sep, last = spec.partition(":")
    start = _check_month(first, where)
    end = _check_month(last, where) if sep else start
    if end < start:
        raise ParameterError(f"{where}: {spec} ends before it starts.")
    return tuple(pd.period_range(start, end, freq="M"))


def load_plan(params_file: str | Path | None = None, month: str | None = None, months: str | None = None) -> DeckPlan:
    """Read and validate a deck params file as a whole, before anything runs."""
    from ccinsight.params import check_parameters, notebook_parameters, read_params_file
    from ccinsight.runner import resolve_notebook

    path = resolve_path(params_file) if params_file else PARAMS_DIR / "monthly.yaml"
    where = f"params file {display_path(path)}"
    raw = read_params_file(path)
    unknown = [k for k in raw if k not in SHARED_KEYS]
    if unknown:
        raise ParameterError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(SHARED_KEYS)}.")
    for key, types in SHARED_KEYS.items():
        if key in raw and (not isinstance(raw[key], types) or isinstance(raw[key], bool)):
            kind = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
            raise ParameterError(f"{where}: '{key}' must be {kind}, got {raw[key]!r}.")
    name = raw.get("deck", "monthly")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ParameterError(f"{where}: deck name {name!r} may hold only letters, digits, '-' and '_'.")
    sections = raw.get("notebooks", {name: {} for name in NOTEBOOKS})
    runs = {}
    for nb, values in sections.items():
        if nb not in NOTEBOOKS:
            raise ParameterError(f"{where}: unknown notebook section '{nb}'; valid: {', '.join(NOTEBOOKS)}.")
        values = values or {}
        if not isinstance(values, dict):
            raise ParameterError(f"{where}: section '{nb}' must be a mapping of parameter: value.")
        accepted = notebook_parameters(resolve_notebook(nb))
        shared = {k: raw[k] for k in ("data", "sources", "min_cell_size") if k in raw and k in accepted}
        derived = {"month", "month_end", "as_of"} & set(values)
        if derived:
            raise ParameterError(f"{where}: section '{nb}' sets {', '.join(sorted(derived))}; the deck sets the "
                                 "period from 'month' (or --month/--months) for every notebook.")
        runs[nb] = check_parameters({**shared, **values}, accepted, f"{where}, section '{nb}'")
    if months:
        chosen = parse_months(months)
    elif month or raw.get("month"):
        chosen = (_check_month(month or raw["month"], "--month" if month else where),)
    else:
        chosen = ()
    if raw.get("sources"):
        from ccinsight.sources import parse

        parse(raw["sources"], where)
    return DeckPlan(name=name, data=str(raw.get("data", "data/synthetic")), months=chosen, runs=runs,
                    sources=raw.get("sources") or {},
                    min_cell_size=int(raw.get("min_cell_size", 5)), source=display_path(path))


def check_inputs(plan: DeckPlan, months: tuple[pd.Period, ...]) -> tuple[pd.Period, ...]:
    """Check every input against the contract and the months against the data, before
    anything runs: bad data or a month without data ends here (exit 2), with no deck
    written. Returns the months to build (default: the latest complete month)."""
    from ccinsight import data as data_mod

    if plan.sources:
        ds = data_mod.load(plan.data, [], optional=list(plan.sources), sources=plan.sources)
    else:
        ds = data_mod.load(plan.data)
    first, latest = ds.first_day().to_period("M"), ds.latest_complete_month()
    chosen = months or (latest,)
    outside = [str(m) for m in chosen if m < first or m > latest]
    if outside:
        raise ParameterError(f"params file {plan.source}: no complete month of data for {', '.join(outside)}; "
                             f"the data ({', '.join(ds.sources.values()) if plan.sources else plan.data}) covers {first} to "
                             f"{latest}.")
    return chosen


def month_parameters(notebook: str, month: pd.Period) -> dict[str, str]:
    """Parameters that pin a notebook to the deck's month, by the names it accepts."""
    from ccinsight.params import notebook_parameters
    from ccinsight.runner import resolve_notebook

    accepted = notebook_parameters(resolve_notebook(notebook))
    out = {}
    if "month" in accepted:
        out["month"] = str(month)
    if "as_of" in accepted:
        out["as_of"] = month.end_time.date().isoformat()
    return out


# --------------------------------------------------------------------------- execution
def run_task(task: dict) -> dict:
    """Run one notebook of a deck (in a worker process); never raises."""
    from ccinsight import runner

    started = dt.datetime.now(dt.timezone.utc)
    try:
        result = runner.run(task["notebook"], task["parameters"], task["out"], where=task["where"],
                            timeout_s=task.get("timeout_s"))
        status, error, found = result.status, result.error, result.findings
    except CCInsightError as err:
        status, error, found = "failed", str(err), {}
    except Exception as err:  # a dead kernel or a broken environment: report, don't crash the deck
        status, error, found = "failed", f"{type(err).__name__}: {err}", {}
    ended = dt.datetime.now(dt.timezone.utc)
    return {"notebook": task["notebook"], "month": task["month"], "status": status, "error": error,
            "findings": found, "start": started.isoformat(timespec="seconds"),
            "end": ended.isoformat(timespec="seconds"), "duration_s": round((ended - started).total_seconds(), 2)}


def _warm_up() -> None:
    """Import papermill and nbconvert once per worker process, not once per notebook."""
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    from ccinsight import report

    report._exporter()


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
def redact(value: Any) -> Any:
    """Hide secrets: values under secret-like keys and passwords inside URLs."""
    if isinstance(value, dict):
        return {k: "***" if SECRET.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        from ccinsight.sources import redact as redact_url

        return redact_url(value)
    return value


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
def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _ci(f: dict, key: str, lo: str | None = None, hi: str | None = None, fmt=_pct) -> str:
    lo, hi = lo or f"{key}_low", hi or f"{key}_high"
    if f.get(lo) is None or f.get(hi) is None:
        return fmt(f.get(key))
    return f"{fmt(f.get(key))} (95% CI {fmt(f[lo])} to {fmt(f[hi])})"


def _headlines(notebook: str, f: dict) -> list[str]:
    """The findings in plain words, one line each, with their intervals."""
    if not f:
        return []
    r2 = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731
    if notebook == "data_overview":
        return [f"{f['n_hires']:,} hires ({f['n_exits']:,} exits) in {f['n_cohorts']} training classes at "
                f"{f['n_sites']} sites; {f['n_calls']:,} outbound calls; months {f['first_month']} to {f['last_month']}."]
    if notebook == "training_vs_performance":
        lines = [f"Training score vs {f['metric']}: r = {_ci(f, 'pooled_r', 'pooled_r_low', 'pooled_r_high', r2)} "
                 f"over {f['n_agents']:,} trainees."]
        if f.get("r_before") is not None:
            lines.append(f"Before the process change r = {r2(f['r_before'])}, after it r = {r2(f['r_after'])} "
                         f"(difference p = {f['p_difference']:.2g}).")
        lines.append(f"{f['n_flagged']} of {f['n_cohorts_estimated']} training classes show no reliable link.")
        return lines
    if notebook == "script_duration_vs_acceptance":
        lines = [f"Acceptance at 3 minutes: {_ci(f, 'acceptance_at_3min')}; over 5 minutes: "
                 f"{_ci(f, 'acceptance_over_5min')}.",
                 f"Longest script keeping {_pct(f['acceptance_target'])} acceptance: "
                 f"{_ci(f, 'max_minutes_for_target', fmt=lambda m: 'n/a' if m is None else f'{m:.1f} min')}."]
        if f.get("new_version"):
            lines.append(f"{f['new_version']} vs {f['baseline_version']}: talk time {f['aht_change_pct']:+.1f}% "
                         f"({f['aht_change_low']:+.1f}% to {f['aht_change_high']:+.1f}%), conversion "
                         f"{100 * f['conversion_diff']:+.1f} points ({100 * f['conversion_diff_low']:+.1f} to "
                         f"{100 * f['conversion_diff_high']:+.1f}).")
        return lines
    if notebook == "attrition_survival":
        lines = [f"90-day attrition: {_ci(f, 'attrition_90d')} of {f['n_hires']:,} hires; 30-day "
                 f"{_pct(f['attrition_30d'])}, 60-day {_pct(f['attrition_60d'])}."]
        groups = ", ".join(f"{g['group']}: {_pct(g['attrition_90d'])} ({_pct(g['low'])} to {_pct(g['high'])})"
                           for g in f.get("groups", []))
        if groups:
            lines.append(f"By {f['group_by']}: {groups}; log-rank p = {f['logrank_p']:.2g}.")
        if f.get("hires_for_seats"):
            lines.append(f"Hire {f['hires_for_seats']} now ({f['hires_for_seats_low']} to {f['hires_for_seats_high']})"
                         f" for {f['seats_needed']} effective seats at day 90.")
        return lines
    if notebook == "hiring_channel_quality":
        lines = []
        if f.get("best_channel"):
            lines.append(f"Best channel: {f['best_channel']}; worst: {f['worst_channel']} "
                         f"(channels differ, p = {f['channels_differ_p']:.2g}).")
        for c in f.get("channels", []):
            lines.append(f"{c['hiring_channel']}: {_pct(c['retention_90d'])} still here at day 90 "
                         f"({_pct(c['low'])} to {_pct(c['high'])}, n = {c['hires']}) - {c['verdict']}.")
        for b in f.get("bursts", []):
            lines.append(f"Bulk drive ({b['channel']}, {b['hires']} hires from {b['start']}): "
                         f"{_pct(b['retention_60d'])} still here after 60 days.")
        return lines
    return []


#: Headline numbers compared with the previous month's deck: notebook -> [(key, label, higher is good)].
TRACKED = {
    "training_vs_performance": [("pooled_r", "training-performance r", True)],
    "script_duration_vs_acceptance": [("acceptance_at_3min", "acceptance at 3 min", True),
                                      ("acceptance_over_5min", "acceptance over 5 min", True)],
    "attrition_survival": [("attrition_90d", "90-day attrition", False),
                           ("hires_for_seats", "hires for the seats plan", False)],
    "data_overview": [("n_hires", "hires", True), ("n_calls", "outbound calls", True)],
}


def _changes(notebook: str, now: dict, before: dict | None) -> list[str]:
    out = []
    for key, label, good_up in TRACKED.get(notebook, []):
        a, b = now.get(key), (before or {}).get(key)
        if a is None or b is None:
            continue
        if a == b:
            out.append(f'<span class="flat">&#9644; {label} unchanged</span>')
            continue
        up = a > b
        css = "good" if up == good_up else "bad"
        arrow = "&#9650;" if up else "&#9660;"
        delta = f"{100 * (a - b):+.1f} points" if isinstance(a, float) and abs(a) <= 1 and abs(b) <= 1 else f"{a - b:+,}"
        out.append(f'<span class="{css}">{arrow} {label} {delta}</span>')
    return out


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{margin-bottom:.2em} .meta{color:#666;font-size:.9em} section{border-top:1px solid #ddd;padding:1em 0}
.status{display:inline-block;padding:.1em .6em;border-radius:1em;font-size:.8em;color:#fff}
.ok{background:#2e7d32}.failed{background:#c62828} ul{margin:.4em 0} li{margin:.2em 0}
.changes span{margin-right:1.2em;font-size:.9em}.good{color:#2e7d32}.bad{color:#c62828}.flat{color:#777}
img{max-width:100%;height:auto;border:1px solid #eee} .row{display:flex;gap:1.5em;flex-wrap:wrap}
.row>div{flex:1 1 420px} pre{white-space:pre-wrap;background:#fff3f3;padding:.6em;font-size:.85em}
"""


def render_index(name: str, month: str, results: list[dict], previous: dict | None, folder: Path,
                 manifest: dict) -> str:
    """The deck's index page: self-contained (inline CSS, embedded figures), works offline."""
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(name)} deck {month}</title>"
             f"<style>{CSS}</style></head><body>",
             f"<h1>Contact-center insight deck: {esc(month)}</h1>",
             f"<p class='meta'>Deck '{esc(name)}' · data {esc(manifest['parameters']['data'])} · generated "
             f"{esc(manifest['created'])} · ccinsight {esc(__version__)}"
             + (f" · compared with {esc(previous['month'])}" if previous else " · no earlier month to compare with")
             + "</p>"]
    order = {nb: i for i, nb in enumerate(NOTEBOOKS)}
    for r in sorted(results, key=lambda r: order.get(r["notebook"], 99)):
        nb = r["notebook"]
        parts.append(f"<section id='{nb}'><h2>{esc(TITLES.get(nb, nb))} <span class='status {r['status']}'>"
                     f"{esc(r['status'])}</span></h2>")
        parts.append(f"<p class='meta'>Ran in {r['duration_s']:.1f} s · "
                     f"<a href='{nb}.html'>full report</a> · <a href='{nb}.ipynb'>executed notebook</a></p>")
        if r["status"] != "ok":
            parts.append(f"<pre>{esc(r['error'] or 'failed')}</pre>")
        ok = r["status"] == "ok"  # a failed notebook may have recorded its data sources, not its findings
        changes = _changes(nb, r["findings"], (previous or {}).get("findings", {}).get(nb)) if ok else []
        if changes:
            parts.append(f"<p class='changes'>Since {esc(previous['month'])}: {' '.join(changes)}</p>")
        lines = "".join(f"<li>{esc(line)}</li>" for line in _headlines(nb, r["findings"])) if ok else ""
        png = _first_image(folder / f"{nb}.ipynb")
        figure = f"<div><img alt='key figure of {esc(nb)}' src='data:image/png;base64,{png}'></div>" if png else ""
        parts.append(f"<div class='row'><div><ul>{lines}</ul></div>{figure}</div></section>")
    parts.append("<p class='meta'>Every estimate comes with its 95% interval; groups smaller than the minimum "
                 f"cell size ({manifest['parameters'].get('min_cell_size', 5)}) are pooled or left out. "
                 "See manifest.json for inputs, versions and timings.</p></body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- the command
@dataclass
class DeckResult:
    folder: Path
    month: str
    results: list[dict] = field(default_factory=list)
    replaced: bool = False
    kept_as: Path | None = None

    @property
    def failed(self) -> list[str]:
        return [r["notebook"] for r in self.results if r["status"] != "ok"]


def _clean_stale(parent: Path) -> None:
    """Remove temporary deck folders left by runs that were killed."""
    for tmp in parent.glob(".*.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        alive = pid.isdigit() and Path(f"/proc/{pid}").exists()
        if not alive:
            shutil.rmtree(tmp, ignore_errors=True)


def build_month(plan: DeckPlan, month: pd.Period, out: Path, executor, force: bool, timeout_s: int | None,
                progress: Callable[[str], None]) -> DeckResult:
    """Build one month's deck; a failed write (disk full, no permission) leaves no trace."""
    tmp = out / plan.name / f".{month}.tmp-{os.getpid()}"
    try:
        return _build_month(plan, month, out, executor, force, timeout_s, progress)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        where = display_path(err.filename) if err.filename else display_path(out / plan.name)
        raise OutputError(f"Could not write the deck for {month} to {where}: {err.strerror or err}; any earlier "
                          f"deck for {month} is left as it was.") from None


def _build_month(plan: DeckPlan, month: pd.Period, out: Path, executor, force: bool, timeout_s: int | None,
                progress: Callable[[str], None]) -> DeckResult:
    parent = out / plan.name
    final = parent / str(month)
    if final.exists() and not force:
        raise ParameterError(f"A deck for {month} already exists in {display_path(final)}; pass --force to "
                             "replace it (the old one is kept until the new one is complete).")
    parent.mkdir(parents=True, exist_ok=True)
    _clean_stale(parent)
    tmp = parent / f".{month}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    tasks = [{"notebook": nb, "month": str(month), "out": str(tmp / ".work" / nb), "timeout_s": timeout_s,
              "where": f"params file {plan.source}, section '{nb}'",
              "parameters": {**values, **month_parameters(nb, month)}} for nb, values in plan.runs.items()]
    results = []
    started = time.perf_counter()
    for r in executor.run(tasks):
        results.append(r)
        progress(f"[{len(results)}/{len(tasks)}] {month} {r['notebook']}: {r['status']} in {r['duration_s']:.1f} s "
                 f"(elapsed {time.perf_counter() - started:.1f} s)")
    for r in results:
        work = tmp / ".work" / r["notebook"]
        for suffix in (".ipynb", ".html"):
            f = work / f"{r['notebook']}{suffix}"
            if f.exists():
                os.replace(f, tmp / f.name)
    shutil.rmtree(tmp / ".work", ignore_errors=True)
    results.sort(key=lambda r: NOTEBOOKS.index(r["notebook"]))
    merged = {r["notebook"]: r["findings"] for r in results}
    manifest = {
        "deck": plan.name, "month": str(month), "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "ccinsight": __version__, "git_commit": audit.git_commit(), "versions": audit.versions(), "host": socket.gethostname(),
        "params_file": plan.source,
        "parameters": redact({"data": plan.data, "min_cell_size": plan.min_cell_size,
                              "notebooks": {t["notebook"]: t["parameters"] for t in tasks}}),
        "inputs": audit.input_files(plan.data, plan.sources),
        "notebooks": [{k: r[k] for k in ("notebook", "status", "error", "start", "end", "duration_s")} for r in results],
    }
    (tmp / "findings.json").write_text(findings_mod.dumps(merged), encoding="utf-8")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    prev_file = parent / str(month - 1) / "findings.json"
    previous = {"month": str(month - 1), "findings": json.loads(prev_file.read_text())} if prev_file.exists() else None
    (tmp / "index.html").write_text(render_index(plan.name, str(month), results, previous, tmp, manifest),
                                    encoding="utf-8")
    result = DeckResult(folder=final, month=str(month), results=results)
    if result.failed and final.exists():
        # never replace a complete deck with one that has failures: keep it beside
        kept = parent / f"{month}.failed"
        shutil.rmtree(kept, ignore_errors=True)
        os.replace(tmp, kept)
        result.kept_as = kept
        return result
    if final.exists():
        old = parent / f"{month}.previous"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
        result.replaced = True
    else:
        os.replace(tmp, final)
    return result


def run_deck(params_file: str | None = None, month: str | None = None, months: str | None = None,
             out: str | None = None, jobs: int | None = None, force: bool = False, scheduler: str | None = None,
             timeout_s: int | None = None, progress: Callable[[str], None] | None = None) -> list[DeckResult]:
    """Build the deck for one month, or for each month of a range."""
    plan = load_plan(params_file, month, months)
    out_dir = resolve_path(out) if out else OUTPUTS_DIR
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    with make_executor(jobs, scheduler) as executor:  # workers warm up while the inputs are checked
        months_to_run = check_inputs(plan, plan.months)
        return [build_month(plan, m, out_dir, executor, force, timeout_s, say) for m in months_to_run]
