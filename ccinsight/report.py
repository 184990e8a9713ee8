"""Rendering executed notebooks for reviewers who do not read code.

The HTML keeps narrative and outputs, drops every code cell's input, the parameters and
injected-parameters cells and the findings payloads, and opens with a short table of
what the run used (parameters, data source, versions).
"""
from __future__ import annotations

import copy
import html
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
    """Remove parameter cells and findings payloads; keep everything a reviewer reads."""

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not HIDDEN_TAGS & set(c.get("metadata", {}).get("tags", []))]
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.get("outputs", []) if MIME_TYPE not in o.get("data", {})]
        return nb, resources


def _cell_text(value: Any) -> str:
    from ccinsight.credentials import redact_url as redact

    if isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
        # a sources section: one line per table, where it comes from
        value = "; ".join(f"{k}: {v.get('file') or v.get('url')}" for k, v in value.items())
    text = "null" if value is None else redact(str(value))
    return html.escape(text).replace("|", "&#124;")


def run_header(title: str, parameters: Mapping[str, Any], extra: Mapping[str, str] | None = None) -> str:
    """Markdown for the top of a rendered notebook: what this run used."""
    rows = [f"| `{k}` | {_cell_text(v)} |" for k, v in parameters.items()]
    facts = {"ccinsight": __version__, **(extra or {})}
    fact_rows = [f"| {html.escape(k)} | {_cell_text(v)} |" for k, v in facts.items()]
    return "\n".join([
        f"<small>Run record of **{html.escape(title)}**</small>", "",
        "| parameter | value |", "|---|---|", *rows, "",
        "| run | |", "|---|---|", *fact_rows,
    ])


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
    """Render an executed notebook for reviewers: no code, a run record at the top."""
    nb = copy.deepcopy(nb)
    header = nbformat.v4.new_markdown_cell(run_header(title, parameters, extra))
    first_markdown = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_markdown + 1, header)
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    return body
