"""Findings: plain JSON values, collected from notebook outputs, written deterministically."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from ccinsight import findings


def test_numpy_pandas_and_dates_become_plain_json():
    value = {"n": np.int64(3), "r": np.float64(0.5), "nan": float("nan"), "flag": np.bool_(True),
             "day": pd.Timestamp("2026-10-01"), "when": dt.date(2026, 1, 2), "month": pd.Period("2026-10"),
             "rows": pd.DataFrame({"a": [1, 2]})}
    assert findings.to_jsonable(value) == {"n": 3, "r": 0.5, "nan": None, "flag": True, "day": "2026-10-01",
                                           "when": "2026-01-02", "month": "2026-10", "rows": [{"a": 1}, {"a": 2}]}


def test_unsupported_values_are_refused():
    with pytest.raises(TypeError, match="findings must be"):
        findings.to_jsonable({"x": object()})


def test_collect_merges_outputs_in_order():
    cells = [
        {"outputs": [{"data": {findings.MIME_TYPE: {"a": 1, "b": 1}}}]},
        {"outputs": [{"data": {"text/plain": "x"}}]},
        {"outputs": [{"data": {findings.MIME_TYPE: json.dumps({"b": 2})}}]},
    ]
    assert findings.collect(cells) == {"a": 1, "b": 2}


def test_dumps_is_deterministic():
    assert findings.dumps({"b": 1, "a": [1.5]}) == findings.dumps({"a": [1.5], "b": 1})
