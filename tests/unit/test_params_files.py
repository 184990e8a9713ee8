"""Params files are settings, read strictly: a key given twice, an alias bomb, an oversized
file and a privacy threshold under the floor are refused with one sentence."""
from __future__ import annotations

import time

import pandas as pd
import pytest

from ccinsight import deck, params
from ccinsight.errors import ParameterError
from ccinsight.privacy import pool_small


def test_a_key_given_twice_is_refused(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("min_cell_size: 5\ndeck: x\nmin_cell_size: 1\n")
    with pytest.raises(ParameterError, match="line 3: the key 'min_cell_size' is given twice"):
        params.read_params_file(path)


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join([f'*{prev}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(ParameterError, match="aliases") as err:
        params.read_params_file(path)
    assert time.perf_counter() - started < 2 and len(str(err.value)) < 300


def test_an_oversized_params_file_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("x: '" + "a" * (2 << 20) + "'\n")
    with pytest.raises(ParameterError, match="at most"):
        params.read_params_file(path)


@pytest.mark.parametrize("value", [0, -3, 2])
def test_min_cell_size_has_a_floor(tmp_path, value):
    path = tmp_path / "deck.yaml"
    path.write_text(f"min_cell_size: {value}\nnotebooks: {{data_overview: {{}}}}\n")
    with pytest.raises(ParameterError, match="below the floor of 3"):
        deck.load_plan(path)
    accepted = params.notebook_parameters(deck.REGISTRY["attrition_survival"].notebook)
    with pytest.raises(ParameterError, match="below the floor"):
        params.check_parameters({"min_cell_size": value}, accepted, "--set")


def test_pooling_leaves_no_small_group_recoverable_by_subtraction():
    labels = pd.Series(["a"] * 40 + ["b"] * 37 + ["c"] * 9 + ["d"] * 2)
    pooled, names = pool_small(labels, 5)
    counts = pooled.value_counts()
    assert names == ["c", "d"] and counts["other"] == 11  # d alone (2) would be total - a - b - c
    assert (counts >= 5).all() and counts.sum() == len(labels)
    # when nothing is small, nothing is pooled
    assert pool_small(pd.Series(["a"] * 6 + ["b"] * 5), 5)[1] == []


def test_a_huge_value_is_quoted_as_an_excerpt(tmp_path):
    accepted = params.notebook_parameters(deck.REGISTRY["attrition_survival"].notebook)
    with pytest.raises(ParameterError) as err:
        params.check_parameters({"seats_needed": "x" * 500_000}, accepted, "params file p.yaml")
    assert "must be int" in str(err.value) and len(str(err.value)) < 400
    with pytest.raises(ParameterError) as err:
        params.check_parameters({"y" * 100_000: 1}, accepted, "params file p.yaml")
    assert "unknown parameter" in str(err.value) and len(str(err.value)) < 1500
