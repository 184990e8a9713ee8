"""Source filters are column expressions: they select rows like pandas would, and anything
that could run code is refused before any data is read."""
from __future__ import annotations

import pandas as pd
import pytest

from ccinsight import filters, sources
from ccinsight.errors import ParameterError

FRAME = pd.DataFrame({"duration": [0, 12, 300, None], "Job Title": ["Intern", "Agent", "Lead", "Agent"],
                      "left": [True, False, False, True]})


@pytest.mark.parametrize("text,rows", [
    ("duration > 0", [1, 2]),
    ("duration >= 12 and `Job Title` != 'Intern'", [1, 2]),
    ("`Job Title` in ['Agent', 'Lead'] or duration == 0", [0, 1, 2, 3]),
    ("not left", [1, 2]),
    ("0 < duration <= 12", [1]),
    ("duration > -1 and `Job Title` not in ('Lead',)", [0, 1]),
])
def test_filters_select_the_rows_a_plain_mask_selects(text, rows):
    assert list(FRAME.index[filters.apply(FRAME, text, "f")]) == rows


@pytest.mark.parametrize("text,words", [
    ("@os.system('touch x') == 0", "not a column expression"),
    ("__import__('os').system('touch x') == 0", "a function call"),
    ("duration.__class__ == 1", "an attribute"),
    ("duration[0] > 1", "a subscript"),
    ("duration * 2 > 1", "arithmetic"),
    ("(lambda: 1)() == 1", "a function call"),
    ("duration in FRAME", "'in' with something other than a list"),
])
def test_anything_but_a_column_expression_is_refused(text, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ParameterError, match=words):
        filters.apply(FRAME, text, "sources.agents.filter")
    with pytest.raises(ParameterError, match=words):  # refused when the params are read, before any data
        sources.parse({"agents": {"file": "x.csv", "filter": text}}, "params file p.yaml")
    assert not (tmp_path / "x").exists()


def test_an_unknown_column_is_named_with_the_columns_found():
    with pytest.raises(ParameterError, match="column 'durtion'.*columns found: duration, Job Title, left"):
        filters.apply(FRAME, "durtion > 0", "f")
