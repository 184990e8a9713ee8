"""Random `sources` sections and random command-line values, in-process through the command:
every one ends in exit 0 or 2 with a message, never an exception (a traceback)."""
from __future__ import annotations

import hypothesis.strategies as st
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from ccinsight.sources import KEYS
from conftest import cli

COLUMNS = ["agent_id", "site", "hire_date", "exit_date", "hiring_channel", "talk_time_s", "accepted", "Start", "x"]
leaf = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12), st.floats(allow_nan=False),
                 st.sampled_from(COLUMNS + ["%m/%d/%y", "minutes", "mm:ss", "days", "2026-10-31", "*", ";", "", "??",
                                            "duration > 0", "SELECT 1", "utf-16", "\t"]),
                 st.text(max_size=12))
values = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(st.sampled_from(COLUMNS + ["column", "left", "as_of",
                                                                                               "accepted", "month",
                                                                                               "day", "unit"]),
                                                                    inner, max_size=3)), max_leaves=8)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    pd.DataFrame({"agent_id": ["a1", "a2"], "site": ["s", "t"], "Start": ["01/02/25", "03/04/25"],
                  "x": [1, 2]}).to_csv(folder / "hr.csv", index=False)
    return folder


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=st.sampled_from(["agents", "outbound_calls", "training"]),
       options=st.dictionaries(st.sampled_from(list(KEYS)), values, max_size=4))
def test_random_sources_sections_end_in_exit_0_or_2(export, table, options):
    spec = {"file": str(export / "hr.csv"), **options}
    path = export / "params.yaml"
    path.write_text(yaml.safe_dump({"sources": {table: spec}}, allow_unicode=True))
    result = cli("validate", "--params", str(path))  # an exception escaping the command fails here
    assert result.code in (0, 2), result.text


@settings(max_examples=40, deadline=None)
@given(flag=st.sampled_from(["--jobs", "--month", "--months", "--cell-timeout"]),
       value=st.one_of(st.integers(-5, 3).map(str), st.sampled_from(["", "x", "2026-13", "2026-10:2026-01", "1e9"])))
def test_random_deck_options_end_in_exit_2_before_anything_runs(tmp_path_factory, flag, value):
    out = tmp_path_factory.mktemp("out")
    params = out / "p.yaml"
    params.write_text("notebooks: {data_overview: {}}\ndata: /nonexistent/folder\n")
    result = cli("deck", "--params", str(params), "--out", str(out / "decks"), flag, value)
    assert result.code == 2, result.text
    assert not (out / "decks").exists()


@pytest.mark.parametrize("case", ["tenure overflow", "symlink loop", "folder as file", "bad date format"])
def test_odd_sources_get_a_message(tmp_path, case):
    pd.DataFrame({"id": ["a1", "a2"], "years": [1e12, 2], "gone": [True, False], "Start": ["x", "y"]}).to_csv(
        tmp_path / "hr.csv", index=False)
    spec = {"file": str(tmp_path / "hr.csv"), "columns": {"agent_id": "id"}}
    if case == "tenure overflow":
        spec["tenure"] = {"column": "years", "unit": "years", "left": "gone", "as_of": "2026-10-31"}
    elif case == "symlink loop":
        (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
        spec["file"] = str(tmp_path / "loop.csv")
    elif case == "folder as file":
        spec["file"] = str(tmp_path)
    else:
        spec["columns"]["hire_date"] = "Start"
        spec["date_format"] = "%Q-%Y"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"sources": {"agents": spec}}))
    result = cli("validate", "--params", str(path))
    assert result.code == 2, result.text
    words = {"tenure overflow": "years", "symlink loop": "link", "folder as file": "folder",
             "bad date format": "%Q-%Y"}[case]
    assert words in result.text, result.text
