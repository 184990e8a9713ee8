"""Reviewer tables: estimates with intervals in one cell, shares as percentages."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ccinsight.tables import interval_text, number, p_value, reviewer_html


def test_cells_read_as_a_reviewer_expects():
    assert interval_text(0.0495, 0.035, 0.069, percent=True) == "5.0% (3.5% to 6.9%)"
    assert interval_text(258.18, 255.8, 260.55, decimals=0) == "258 (256 to 261)"
    assert interval_text(0.2, np.nan, np.nan, percent=True) == "20.0%"  # no interval: estimate alone
    assert interval_text(np.nan, 0.1, 0.2) == ""
    assert number(12345) == "12,345" and number(True) == "yes" and number(pd.NA) == "" and number(None) == ""
    assert number(pd.Timestamp("2026-03-01")) == "2026-03-01"
    assert p_value(3e-7) == "< 0.001" and p_value(0.0123) == "0.012" and p_value(np.nan) == ""


def test_reviewer_html_merges_bounds_and_renames():
    frame = pd.DataFrame({"group": ["a", "b"], "n": [14, 110], "rate": [0.0, 0.018], "low": [0.0, 0.005],
                          "high": [0.232, 0.071], "p": [0.5, 1e-9], "_hidden": [1, 2]})
    page = reviewer_html(frame, intervals={"rate": ("low", "high")}, percent={"rate"}, pvalues={"p"},
                         labels={"rate": "90-day attrition (95% CI)"})
    header = re.findall(r"<th>(.*?)</th>", page)
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert header == ["group", "n", "90-day attrition (95% CI)", "p"]
    assert cells == ["a", "14", "0.0% (0.0% to 23.2%)", "0.5", "b", "110", "1.8% (0.5% to 7.1%)", "&lt; 0.001"]
