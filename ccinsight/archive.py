"""The deck's archive page, ``outputs/<deck>/index.html``: every month's deck, and each
tracked metric across the months with its 95% interval.

It is read from the month folders' own ``findings.json`` (nothing else is stored), and
rewritten after each deck run, so it always lists what is on disk.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import os
import re
from pathlib import Path

import pandas as pd

from ccinsight import findings as findings_mod
from ccinsight.analyses import REGISTRY
from ccinsight.tables import UNITS, interval_text, reviewer_html

MONTH_FOLDER = re.compile(r"^\d{4}-\d{2}$")


def collect(deck_folder: Path) -> tuple[list[str], pd.DataFrame]:
    """The months with a complete deck (oldest first), and one row per month and tracked
    metric: notebook, field, label, unit, value, low, high, n."""
    months, rows = [], []
    for folder in sorted(p for p in Path(deck_folder).iterdir() if p.is_dir() and MONTH_FOLDER.match(p.name)):
        try:
            merged = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a complete deck
        months.append(folder.name)
        for name, analysis in REGISTRY.items():
            found, _ = findings_mod.split(merged.get(name) or {})
            units = {f["name"]: f["unit"] for f in analysis.findings.schema()}
            for t in analysis.tracked:
                est = found.get(t.field)
                if isinstance(est, dict) and est.get("value") is not None:
                    rows.append({"month": folder.name, "notebook": name, "field": t.field, "label": t.label,
                                 "unit": units.get(t.field, ""), "value": est["value"], "low": est.get("low"),
                                 "high": est.get("high"), "n": est.get("n")})
    columns = ["month", "notebook", "field", "label", "unit", "value", "low", "high", "n"]
    return months, pd.DataFrame(rows, columns=columns)


def trend_png(metric: pd.DataFrame) -> str:
    """One tracked metric across months as a base64 PNG: the estimate and its 95% interval."""
    from matplotlib.figure import Figure

    share = metric["unit"].iloc[0] == "share"
    scale = 100 if share else 1
    x = list(range(len(metric)))  # one step per month; labelled with the months below
    value = metric["value"].astype(float) * scale
    low = metric["low"].astype(float) * scale
    high = metric["high"].astype(float) * scale
    fig = Figure(figsize=(6, 2.6), dpi=100)
    ax = fig.add_subplot()
    ax.fill_between(x, low, high, color="#0072b2", alpha=0.15, linewidth=0, label="95% interval")
    ax.plot(x, value, marker="o", color="#0072b2", label="estimate")
    ax.set_ylabel(f"{metric['label'].iloc[0]}{' (%)' if share else ''}")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#ddd")
    ax.legend(frameon=False, fontsize="small", loc="best")
    step = max(1, -(-len(x) // 12))  # at most about 12 month labels
    ax.set_xticks(x[::step], list(metric["month"])[::step])
    ax.set_xlim(-0.3, len(x) - 0.7)
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
.meta{color:#666;font-size:.9em} section{border-top:1px solid #ddd;padding:1em 0}
.row{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start} .row>div{flex:1 1 420px}
img{max-width:100%;height:auto} table{border-collapse:collapse;font-size:.9em} td,th{padding:.2em .6em;text-align:right}
"""


def render(deck_folder: Path, name: str, collected: tuple[list[str], pd.DataFrame] | None = None,
           key: str = "") -> str:
    """The archive page: self-contained (inline CSS, embedded figures), works offline.
    ``collected``: :func:`collect`'s result when the caller has it; ``key`` is written into
    the page (see :func:`write`)."""
    esc = html.escape
    months, rows = collected if collected is not None else collect(deck_folder)
    parts = [f"<!DOCTYPE html>{_KEY.format(key) if key else ''}<html lang='en'><head><meta charset='utf-8'>"
             f"<title>{esc(name)} decks</title>"
             f"<style>{CSS}</style></head><body><main><h1>Insight decks: {esc(name)}</h1>"]
    if not months:
        parts.append("<p>No complete deck yet.</p></main></body></html>")
        return "\n".join(parts)
    links = " · ".join(f"<a href='{m}/index.html'>{m}</a>" for m in reversed(months))
    parts.append(f"<p>{len(months)} month(s), newest first: {links}</p>")
    parts.append("<p class='meta'>Each point is that month's estimate as of the month's end, with its 95% interval "
                 "(shaded); months are not adjusted for one another.</p>")
    for (label, unit), metric in rows.groupby(["label", "unit"], sort=False):
        metric = metric.sort_values("month")
        table = metric.assign(estimate=[interval_text(v, lo, hi, unit if unit in UNITS else "number")
                                        for v, lo, hi in zip(metric["value"], metric["low"], metric["high"])])
        ci = metric["low"].notna().any()  # counts such as effective seats carry no interval
        table_html = reviewer_html(table[["month", "estimate", "n"]],
                                   labels={"estimate": f"{label} (95% CI)" if ci else label, "n": "n"})
        png = trend_png(metric) if len(metric) > 1 else None
        figure = (f"<div><img alt='{esc(label)} by month, {metric['month'].iloc[0]} to {metric['month'].iloc[-1]}"
                  f"{', with 95% intervals' if ci else ''}' src='data:image/png;base64,{png}'></div>") if png else ""
        parts.append(f"<section><h2>{esc(label)}</h2><div class='row'>{figure}<div>{table_html}</div></div></section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


_KEY = "<!-- ccinsight archive {} -->"


def write(deck_folder: Path, name: str, code: str = "") -> Path:
    """(Re)write ``DECK_FOLDER/index.html``; replaced in one step, never half-written. The
    page carries a key of what it shows (the months, their tracked metrics, ``name`` and
    ``code``, the code version): a page with the same key is kept as it is, so an
    unchanged rerun does not draw every trend again."""
    target = Path(deck_folder) / "index.html"
    months, rows = collect(deck_folder)
    what = json.dumps([name, code, months, rows.to_dict(orient="split")], sort_keys=True, default=str)
    key = hashlib.sha256(what.encode()).hexdigest()
    try:
        with target.open(encoding="utf-8") as page:
            if _KEY.format(key) in page.read(200):
                return target
    except OSError:
        pass  # no page yet
    tmp = target.with_name(f".index.html.tmp-{os.getpid()}")
    tmp.write_text(render(deck_folder, name, (months, rows), key), encoding="utf-8")
    os.replace(tmp, target)
    return target
