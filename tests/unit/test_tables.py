"""Reviewer tables: estimates with intervals in one cell under a "(95% CI)" header, every
cell formatted as the sentences format it (ccinsight.wording)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from ccinsight import wording
from ccinsight.tables import cell, interval_text, reviewer_html


def test_cells_read_as_a_reviewer_expects():
    assert interval_text(0.0495, 0.035, 0.069, "share") == "5.0% (3.5% to 6.9%)"
    assert interval_text(258.18, 255.8, 260.55, "count") == "258 (256 to 261)"
    assert interval_text(0.2, np.nan, np.nan, "share") == "20.0%"  # no interval: estimate alone
    assert interval_text(np.nan, 0.1, 0.2) == ""
    assert cell(12345) == "12,345" and cell(True) == "yes" and cell(pd.NA) == "" and cell(None) == ""
    assert cell(pd.Timestamp("2026-03-01")) == "2026-03-01" and cell(pd.Timestamp("2026-03-01").date()) == "2026-03-01"
    assert cell(pd.Period("2026-03")) == "2026-03"
    assert cell(3e-7, "p") == "< 0.001" and cell(0.0123, "p") == "0.012" and cell(0.0013, "p") == "0.001"
    assert cell(np.nan, "p") == ""
    assert cell(231.4, "seconds") == "3:51" and cell(3725, "seconds") == "1:02:05" and cell(59, "seconds") == "0:59"
    assert cell(1565.22, "money", currency="CNY") == "CNY 1,565" and cell(1565.22, "money") == "1,565"
    assert cell(63.0, "days") == "63" and cell(0.307547) == "0.31" and cell(-3.240075, decimals=1) == "-3.2"
    with pytest.raises(ValueError, match="unknown unit"):
        cell(1.0, "furlongs")


def test_sentences_and_cells_share_the_formatter():
    assert wording.duration(231.4) == cell(231.4, "seconds")
    assert wording.p_value(0.0123) == "p = 0.012" and wording.p_value(2e-9) == "p < 0.001"
    assert wording.count(61.7) == "62"  # a count estimate is rounded, not truncated


def test_reviewer_html_merges_bounds_labels_the_interval_and_renames():
    frame = pd.DataFrame({"group": ["a", "b"], "n": [14, 110], "rate": [0.0, 0.018], "low": [0.0, 0.005],
                          "high": [0.232, 0.071], "p": [0.5, 1e-9], "talk_s": [95.0, 231.0], "_hidden": [1, 2]})
    page = reviewer_html(frame, intervals={"rate": ("low", "high")},
                         units={"rate": "share", "p": "p", "talk_s": "seconds"},
                         labels={"rate": "90-day attrition"})
    header = re.findall(r"<th>(.*?)</th>", page)
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert header == ["group", "n", "90-day attrition (95% CI)", "p", "talk s"]
    assert cells == ["a", "14", "0.0% (0.0% to 23.2%)", "0.5", "1:35",
                     "b", "110", "1.8% (0.5% to 7.1%)", "&lt; 0.001", "3:51"]
