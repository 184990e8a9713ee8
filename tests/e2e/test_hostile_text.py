"""Script injection: hostile strings in every free-text column of every table, a full deck
with every analysis grouped by them, and every page of it loaded in a real Chromium. No
dialog may open and no injected element may appear."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from conftest import run_cli

pytestmark = pytest.mark.notebook


def _payloads(column: str) -> list[str]:
    tag = column.replace("_", "")
    return [f"<img src=x onerror=alert('{tag}1')>", f"<script>alert('{tag}2')</script>",
            f"**{tag}** [click](javascript:alert('{tag}3'))", f"<svg onload=alert('{tag}4')>"]


def _hostile(series: pd.Series, column: str) -> pd.Series:
    """Each distinct value replaced by a payload (the same value, the same payload)."""
    values = sorted(series.dropna().astype(str).unique())
    payloads = _payloads(column)
    mapping = {v: f"{payloads[i % len(payloads)]}#{i}" for i, v in enumerate(values)}
    return series.map(lambda v: mapping.get(str(v), v) if pd.notna(v) else v)


def _poison(folder) -> None:
    tables = {n: pd.read_parquet(folder / f"{n}.parquet") for n in
              ("agents", "training", "performance", "outbound_calls", "channels")}
    a = tables["agents"]
    for col in ("site", "team", "school"):
        a[col] = _hostile(a[col], col)
    channel = dict(zip(sorted(a["hiring_channel"].unique()), _hostile(pd.Series(sorted(a["hiring_channel"].unique())),
                                                                      "channel")))
    a["hiring_channel"] = a["hiring_channel"].map(channel)
    tables["channels"]["hiring_channel"] = tables["channels"]["hiring_channel"].map(channel)
    cohort = dict(zip(sorted(a["cohort_id"].unique()), _hostile(pd.Series(sorted(a["cohort_id"].unique())), "cohort")))
    a["cohort_id"] = a["cohort_id"].map(cohort)
    tables["training"]["cohort_id"] = tables["training"]["cohort_id"].map(cohort)
    calls = tables["outbound_calls"]
    calls["campaign"] = _hostile(calls["campaign"], "campaign")
    calls["refusal_reason"] = _hostile(calls["refusal_reason"], "reason")
    calls["script_version"] = calls["script_version"].replace({"keyword": "<img src=x onerror=alert('script')>"})
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


def test_no_script_runs_in_any_page_of_a_hostile_deck(small_copy, tmp_path, chromium):
    from playwright.sync_api import sync_playwright

    _poison(small_copy)
    params = {"deck": "hostile", "data": str(small_copy), "notebooks": {
        "data_overview": {}, "training_vs_performance": {}, "script_duration_vs_acceptance": {},
        "attrition_survival": {"group_by": "site", "covariates": ["site", "hiring_channel", "team"]},
        "hiring_channel_quality": {}}}
    (tmp_path / "deck.yaml").write_text(yaml.safe_dump(params))
    result = run_cli("deck", "--params", str(tmp_path / "deck.yaml"), "--out", str(tmp_path / "out"))
    assert result.code == 0, result.text
    pages = sorted((tmp_path / "out" / "hostile").glob("*/*.html"))
    assert len(pages) == 6
    dialogs, injected = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        for path in pages:
            page = browser.new_page()
            page.on("dialog", lambda d, path=path: (dialogs.append((path.name, d.message)), d.dismiss()))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            found = page.evaluate("""() => [
                ...Array.from(document.querySelectorAll('[onerror],[onload]')).map(e => e.outerHTML.slice(0, 80)),
                ...Array.from(document.scripts).filter(s => s.textContent.includes('alert(')).map(s => 'script'),
                ...Array.from(document.links).filter(a => a.href.startsWith('javascript:')).map(a => a.href)]""")
            text = page.evaluate("document.body.innerText")
            injected += [(path.name, f) for f in found]
            assert "alert(" in text, path.name  # the hostile values are there, shown as text
            page.close()
        browser.close()
    assert dialogs == [] and injected == []
