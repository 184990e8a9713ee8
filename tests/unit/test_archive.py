"""The archive page: every complete month's deck, each tracked metric by month as its deck recorded it."""
from __future__ import annotations

import json

from ccinsight import archive


def _deck(folder, attrition, acceptance=None):
    folder.mkdir(parents=True)
    merged = {"attrition_survival": {"attrition_90d": {"value": attrition, "low": attrition - 0.01,
                                                       "high": attrition + 0.02, "n": 1200}}}
    if acceptance is not None:
        merged["script_duration_vs_acceptance"] = {
            "acceptance_at_3min": {"value": acceptance, "low": acceptance - 0.005, "high": acceptance + 0.005,
                                   "n": 50_000}}
    (folder / "findings.json").write_text(json.dumps(merged))


def test_lists_complete_months_and_each_tracked_metric(tmp_path):
    _deck(tmp_path / "2026-08", 0.081, 0.77)
    _deck(tmp_path / "2026-09", 0.079)
    (tmp_path / "2026-10.failed").mkdir()  # a failed rerun kept beside: not a month of the archive
    (tmp_path / "2026-10").mkdir()  # no findings.json: not complete
    months, rows = archive.collect(tmp_path)
    assert months == ["2026-08", "2026-09"]
    att = rows[rows["field"] == "attrition_90d"]
    assert list(att["month"]) == ["2026-08", "2026-09"] and list(att["value"]) == [0.081, 0.079]
    assert list(rows.loc[rows["field"] == "acceptance_at_3min", "month"]) == ["2026-08"]
    page = archive.write(tmp_path, "monthly").read_text()
    assert "2 month(s), newest first: <a href='2026-09/index.html'>2026-09</a> · " in page
    assert "8.1% (7.1% to 10.1%)" in page and "7.9% (6.9% to 9.9%)" in page and "1,200" in page
    assert page.count("<img") == 1  # a trend needs two months: attrition has them, acceptance one
    assert "alt='90-day attrition by month, 2026-08 to 2026-09, with 95% intervals'" in page
    assert not list(tmp_path.glob(".index.html.tmp-*"))


def test_an_empty_folder_says_so(tmp_path):
    assert "No complete deck yet." in archive.render(tmp_path, "monthly")


def test_a_page_showing_the_same_is_kept_and_a_changed_month_redraws_it(tmp_path, monkeypatch):
    _deck(tmp_path / "2026-08", 0.081)
    _deck(tmp_path / "2026-09", 0.079)
    drawn = []
    real = archive.trend_png
    monkeypatch.setattr(archive, "trend_png", lambda metric: drawn.append(1) or real(metric))
    first = archive.write(tmp_path, "monthly", "code-1").read_text()
    archive.write(tmp_path, "monthly", "code-1")
    assert len(drawn) == 1  # the unchanged rerun kept the page
    _deck(tmp_path / "2026-10", 0.090)
    assert "3 month(s)" in archive.write(tmp_path, "monthly", "code-1").read_text() and len(drawn) == 2
    archive.write(tmp_path, "monthly", "code-2")  # other code: drawn again
    assert len(drawn) == 3 and first.startswith("<!DOCTYPE html><!-- ccinsight archive ")
