"""The reviewer HTML: findings first; the run record, with what the code printed as
warnings, is a collapsed appendix at the end."""
from __future__ import annotations

from html.parser import HTMLParser

import nbformat

from ccinsight.report import render_html


def _executed() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("month: str = '2026-10'  # the month")
    params.metadata["tags"] = ["parameters"]
    work = nbformat.v4.new_code_cell("analyse()")
    work.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="Warning: the <key> is not set.\n"),
        nbformat.v4.new_output("display_data", data={"text/markdown": "**Headline**: 90-day attrition 16.7%"}),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# How long do new agents stay?"), params, work,
                nbformat.v4.new_markdown_cell("## Survival curves")]
    return nb


def test_run_record_is_a_collapsed_appendix_holding_the_warnings():
    html = render_html(_executed(), "attrition_survival", {"month": "2026-10"}, {"data": "agents.parquet"})
    record = html.index('<details class="run-record">')
    assert "<details class=\"run-record\" open" not in html  # collapsed
    assert html.index("Headline") < html.index("Survival curves") < record  # findings and figures first
    assert html.count("the &lt;key&gt; is not set") == 1 and html.index("the &lt;key&gt; is not set") > record
    assert "1 warning(s)" in html and "agents.parquet" in html[record:]
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in html  # no warning box in the body


def test_every_figure_has_alt_text_from_the_narrative_above_it():
    nb = _executed()
    figure = nbformat.v4.new_code_cell("result.plot();")
    figure.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    nb.cells.insert(3, nbformat.v4.new_markdown_cell('## Survival "curves"\n\nEach curve is the share of hires still '
                                                     "employed. The table counts people."))
    nb.cells.insert(4, figure)
    html = render_html(nb, "attrition_survival", {})

    class Images(HTMLParser):
        alts: list = []

        def handle_starttag(self, tag, attrs):
            if tag == "img":
                self.alts.append(dict(attrs).get("alt"))

    parser = Images()
    parser.feed(html)
    assert parser.alts == ['Survival "curves": Each curve is the share of hires still employed.']
