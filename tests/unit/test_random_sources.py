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


def test_glob_files_with_different_columns_are_named(tmp_path):
    pd.DataFrame({"agent_id": ["a1"], "site": ["s"]}).to_csv(tmp_path / "hr-1.csv", index=False)
    pd.DataFrame({"agent_id": ["a2"], "Site": ["s"]}).to_csv(tmp_path / "hr-2.csv", index=False)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"sources": {"agents": {"file": str(tmp_path / "hr-*.csv")}}}))
    result = cli("validate", "--params", str(path))
    assert result.code == 2 and "do not have the same columns" in result.err
    assert "hr-2.csv differs from" in result.err and "also has Site; lacks site" in result.err


def test_duplicate_parquet_columns_are_named(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    shutil_data = tmp_path / "data"
    shutil_data.mkdir()
    pq.write_table(pa.table([pa.array(["a1"]), pa.array(["s"]), pa.array(["t"])], names=["agent_id", "site", "site"]),
                   shutil_data / "agents.parquet")
    result = cli("validate", "--data", str(shutil_data))
    assert result.code == 2 and "more than one column named 'site'" in result.err


def test_excel_title_rows_are_skipped(tmp_path):
    with pd.ExcelWriter(tmp_path / "hr.xlsx") as xl:
        pd.DataFrame([["Headcount report"], ["as of October"]]).to_excel(xl, index=False, header=False)
        pd.DataFrame({"agent_id": ["a1"], "site": ["s"]}).to_excel(xl, index=False, startrow=2)
    from ccinsight import readers, sources

    src = sources.parse({"agents": {"file": str(tmp_path / "hr.xlsx"), "skip_rows": 2}})["agents"]
    assert readers.read_source(src).columns.tolist() == ["agent_id", "site"]


def test_absurd_magnitudes_are_named():
    from ccinsight import contract

    frame = pd.DataFrame({"hiring_channel": ["a", "b"], "cost_per_hire": [1500.0, 3e15]})
    _, report = contract.validate({"channels": frame}, {"channels": "channels.csv"})
    assert "channels.cost_per_hire in channels.csv: values beyond 1e+12 in size" in str(report)
