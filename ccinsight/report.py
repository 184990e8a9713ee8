"""Rendering executed notebooks for reviewers who do not read code.

The HTML keeps narrative and outputs, drops every code cell's input, the parameters and
injected-parameters cells and the findings payloads, and ends with the run record: a
collapsed appendix of what the run used (parameters, inputs with fingerprints, versions)
and the warnings the code printed, which a reader of the findings need not scroll past.
"""
from __future__ import annotations

import copy
import html
import re
from pathlib import Path
from typing import Any, Mapping

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor

from ccinsight import __version__
from ccinsight.findings import MIME_TYPE

HIDDEN_TAGS = {"parameters", "injected-parameters"}
TEMPLATES = Path(__file__).parent / "templates"


class _StripForReviewers(Preprocessor):
    """Remove parameter cells and findings payloads; keep everything a reviewer reads, and
    give each figure alt text: the heading and first sentence of the narrative above it."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not HIDDEN_TAGS & set(c.get("metadata", {}).get("tags", []))]
        described = ""
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                described = figure_description(cell.source) or described
            elif cell.cell_type == "code":
                cell.outputs = [o for o in cell.get("outputs", []) if MIME_TYPE not in o.get("data", {})]
                for out in cell.outputs:
                    if "image/png" in out.get("data", {}):
                        out.setdefault("metadata", {}).setdefault("image/png", {})["alt"] = described or "Figure"
        return nb, resources


def figure_description(markdown: str) -> str:
    """'Heading: first sentence.' of a narrative cell, as plain text (for alt text)."""
    lines = [ln.strip() for ln in markdown.strip().splitlines()]
    heading = next((ln.lstrip("#").strip() for ln in lines if ln.startswith("#")), "")
    body = " ".join(ln for ln in lines if ln and not ln.startswith("#"))
    sentence = re.split(r"(?<=[.!?])\s", body, maxsplit=1)[0] if body else ""
    text = f"{heading}: {sentence}" if heading and sentence else heading or sentence
    return re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", text).strip()


def _cell_text(value: Any) -> str:
    from ccinsight.credentials import redact_url as redact

    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        # a sources section: one line per table, where it comes from
        value = "; ".join(f"{k}: {v.get('file') or v.get('url')}" for k, v in value.items())
    text = "null" if value is None else redact(str(value))
    return html.escape(text).replace("|", "&#124;")


def run_record(title: str, parameters: Mapping[str, Any], extra: Mapping[str, str] | None = None,
               warnings: list[str] | None = None) -> str:
    """Markdown for the end of a rendered notebook: what this run used, collapsed."""
    rows = [f"| `{k}` | {_cell_text(v)} |" for k, v in parameters.items()]
    facts = {"ccinsight": __version__, **(extra or {})}
    if warnings:
        facts["warnings"] = " ".join(warnings)
    fact_rows = [f"| {html.escape(k)} | {_cell_text(v)} |" for k, v in facts.items()]
    return "\n".join([
        '<details class="run-record">',
        f"<summary>Run record of {html.escape(title)}: parameters, inputs, versions"
        + (f", {len(warnings)} warning(s)" if warnings else "") + "</summary>", "",
        "| parameter | value |", "|---|---|", *rows, "",
        "| run | |", "|---|---|", *fact_rows, "",
        "</details>",
    ])


def _take_warnings(nb: nbformat.NotebookNode) -> list[str]:
    """Remove what the code wrote to stderr from the outputs; return it, one entry per output."""
    taken = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = " ".join(str(out.get("text", "")).split())
                if text and text not in taken:
                    taken.append(text)
            else:
                kept.append(out)
        cell.outputs = kept
    return taken


_EXPORTER: HTMLExporter | None = None


def _exporter() -> HTMLExporter:
    """One exporter per process: building it loads templates, which is slow."""
    global _EXPORTER
    if _EXPORTER is None:
        exp = HTMLExporter(template_name="reviewer", extra_template_basedirs=[str(TEMPLATES)])
        exp.exclude_input = True
        exp.exclude_input_prompt = True
        exp.exclude_output_prompt = True
        exp.register_preprocessor(_StripForReviewers(), enabled=True)
        _EXPORTER = exp
    return _EXPORTER


def render_html(nb: nbformat.NotebookNode, title: str, parameters: Mapping[str, Any],
                extra: Mapping[str, str] | None = None) -> str:
    """Render an executed notebook for reviewers: no code; the run record, with the
    warnings the code printed, as a collapsed appendix at the end."""
    nb = copy.deepcopy(nb)
    warnings = _take_warnings(nb)
    nb.cells.append(nbformat.v4.new_markdown_cell(run_record(title, parameters, extra, warnings)))
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body
