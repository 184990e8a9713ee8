"""Everything in a month's deck is as of that month's end: a deck for month M built from the
full data (a backfill) equals a deck built from the data cut at the end of M.

The cut is made here with plain pandas from the documented rule (docs/data-contract.md,
"The analysis month"), not with ccinsight's own code."""
from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest
import yaml

from ccinsight.analyses import REGISTRY
from conftest import PROJECT_ROOT, run_cli

pytestmark = pytest.mark.notebook
MONTH = "2026-08"
PROVENANCE = {"data_sources", "data_skipped", "data_notes"}


def cut_at(folder, out, month: str) -> None:
    """The data set as it stood at the end of ``month``, written to ``out``."""
    end = pd.Period(month, freq="M").end_time.normalize()
    next_day = end + pd.Timedelta(days=1)
    out.mkdir()
    agents = pd.read_parquet(folder / "agents.parquet")
    agents = agents[agents["hire_date"] < next_day].copy()
    later_exit = agents["exit_date"] >= next_day
    agents.loc[later_exit, ["exit_date", "exit_type"]] = None
    later_cert = agents["certification_date"] >= next_day
    agents.loc[later_cert, ["certified", "certification_date"]] = None
    agents.to_parquet(out / "agents.parquet", index=False)
    training = pd.read_parquet(folder / "training.parquet")
    training[training["training_end_date"] < next_day].to_parquet(out / "training.parquet", index=False)
    perf = pd.read_parquet(folder / "performance.parquet")
    perf[pd.to_datetime(perf["month"]) <= pd.Timestamp(month)].to_parquet(out / "performance.parquet", index=False)
    calls = pd.read_parquet(folder / "outbound_calls.parquet")
    calls[calls["started_at"] < next_day].to_parquet(out / "outbound_calls.parquet", index=False)
    queue = pd.read_parquet(folder / "queue_intervals.parquet")
    queue[queue["interval_start"] < next_day].to_parquet(out / "queue_intervals.parquet", index=False)
    shutil.copy(folder / "channels.parquet", out / "channels.parquet")


def assert_same(a, b, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert set(a) == set(b), f"{where}: keys {set(a) ^ set(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        assert math.isclose(a, b, rel_tol=0, abs_tol=1e-9), f"{where}: {a!r} vs {b!r}"
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def test_a_backfilled_month_equals_the_month_on_data_cut_at_its_end(synthetic, tmp_path):
    cut_at(synthetic, tmp_path / "cut", MONTH)
    base = yaml.safe_load((PROJECT_ROOT / "params" / "monthly.yaml").read_text())
    (tmp_path / "full.yaml").write_text(yaml.safe_dump({**base, "month": None}))
    (tmp_path / "cut.yaml").write_text(yaml.safe_dump({**base, "month": None, "data": str(tmp_path / "cut")}))
    full = run_cli("deck", "--params", str(tmp_path / "full.yaml"), "--out", str(tmp_path / "full"),
                   "--months", f"2026-07:{MONTH}")
    assert full.code == 0, full.text
    cut = run_cli("deck", "--params", str(tmp_path / "cut.yaml"), "--out", str(tmp_path / "cut-deck"))
    assert cut.code == 0, cut.text
    assert (tmp_path / "cut-deck" / "monthly" / MONTH).is_dir()  # the cut data's latest complete month is M
    a = json.loads((tmp_path / "full" / "monthly" / MONTH / "findings.json").read_text())
    b = json.loads((tmp_path / "cut-deck" / "monthly" / MONTH / "findings.json").read_text())
    assert set(a) == set(b) == set(REGISTRY)
    for name in REGISTRY:
        found_a = {k: v for k, v in a[name].items() if k not in PROVENANCE}
        found_b = {k: v for k, v in b[name].items() if k not in PROVENANCE}
        assert_same(found_a, found_b, name)
    # and the backfilled months differ from each other: each is its own month
    july = json.loads((tmp_path / "full" / "monthly" / "2026-07" / "findings.json").read_text())
    assert july["data_overview"]["n_hires"] < a["data_overview"]["n_hires"]
    assert july["attrition_survival"]["as_of"] == "2026-07-31"
