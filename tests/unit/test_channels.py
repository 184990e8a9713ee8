"""Hiring-channel quality: intervals against statsmodels, shrinkage against a hand-worked
example, small channels pooled out of sight, planted truth recovered."""
from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import wilson_by_hand  # noqa: E402

from ccinsight.analyses import channels  # noqa: E402
from ccinsight.data import Dataset  # noqa: E402
from ccinsight.errors import DataError  # noqa: E402
from ccinsight.findings import to_jsonable  # noqa: E402


def test_shrinkage_hand_worked_example():
    # mu = 55/70 = 0.785714; weighted variance of rates = 4.085714/70 = 0.058367;
    # binomial noise = 0.168367 * mean(1/n) = 0.012347; tau^2 = 0.046020;
    # a + b = 0.168367 / 0.046020 - 1 = 2.658537 -> a = 2.088850, b = 0.569686
    a, b = channels.beta_binomial_prior([8, 45, 2], [10, 50, 10])
    assert (a, b) == pytest.approx((2.088850, 0.569686), abs=1e-6)
    shrunk = channels.shrink([8, 45, 2], [10, 50, 10])
    assert shrunk == pytest.approx([(8 + a) / (10 + a + b), (45 + a) / (50 + a + b), 4.088850 / 12.658537], abs=1e-6)
    assert shrunk[2] > 0.2 and shrunk[1] < 0.9  # towards the pooled rate


def test_no_excess_spread_shrinks_to_the_pooled_rate():
    shrunk = channels.shrink([50, 50], [100, 100])
    assert shrunk == pytest.approx([0.5, 0.5], abs=1e-6)


def test_verdict_rule():
    # (retention difference, its Holm p, certification difference, its Holm p, alpha)
    assert channels.verdict(+0.06, 0.01, 0.0, 0.9, 0.05) == channels.ABOVE
    assert channels.verdict(-0.10, 0.001, 0.0, 0.9, 0.05) == channels.BELOW
    assert channels.verdict(+0.06, 0.01, -0.1, 0.02, 0.05) == channels.BELOW  # certifies fewer
    assert channels.verdict(-0.20, 0.06, np.nan, np.nan, 0.05) == channels.NO_CLEAR  # large but not separated
    assert channels.verdict(np.nan, np.nan, np.nan, np.nan, 0.05) == channels.NO_CLEAR


def _agents(seed=4):
    rng = np.random.default_rng(seed)
    rows = []
    for channel, n, stay in [("referral", 60, 0.95), ("job_board", 80, 0.85), ("campus", 50, 0.6),
                             ("career_fair", 1, 1.0)]:
        hire = pd.Timestamp("2025-09-01") + pd.to_timedelta(rng.integers(0, 200, n), unit="D")
        leaves = rng.random(n) > stay
        exit_ = hire + pd.to_timedelta(rng.integers(5, 80, n), unit="D")
        certified = pd.array(np.where(leaves, None, rng.random(n) < 0.9), dtype="boolean")
        rows.append(pd.DataFrame({"agent_id": [f"{channel}-{i}" for i in range(n)], "site": "s", "team": "t",
                                  "hire_date": hire, "exit_date": exit_.where(leaves), "exit_type": "voluntary",
                                  "hiring_channel": channel, "cohort_id": "k", "school": None,
                                  "onboarding_program": False, "certified": certified,
                                  "certification_date": (hire + pd.Timedelta(days=60)).where(~leaves)}))
    return pd.concat(rows, ignore_index=True)


def _ds(agents):
    return Dataset(root=None, tables={"agents": agents}, month=pd.Period("2026-06", freq="M"))


def test_certification_intervals_are_wilson():
    agents = _agents()
    result = channels.analyse(_ds(agents), window_months=12, follow_up_days=0)
    row = result.table.set_index("hiring_channel").loc["referral"]
    ex = agents[(agents["hiring_channel"] == "referral")]["certified"].dropna().astype(float)
    low, high = wilson_by_hand(ex.sum(), len(ex))
    assert (row["cert_low"], row["cert_high"]) == pytest.approx((low, high))


def test_one_person_channel_appears_nowhere(tmp_path):
    import matplotlib.pyplot as plt

    result = channels.analyse(_ds(_agents()), window_months=12, follow_up_days=0)
    # complementary pooling: one hire alone would be recoverable as the total minus every
    # shown channel, so the next smallest channel (campus, 50 hires) joins it as "other"
    assert result.pooled == ("campus", "career_fair")
    text = json.dumps(to_jsonable(result.findings())) + result.table.to_string()
    assert "career_fair-0" not in text  # the person is in no table
    table = result.table.set_index("hiring_channel")
    assert table.loc["other", "hires"] == 51 and table["hires"].sum() == result.n_hires == 191
    for plot in (result.plot, result.plot_shrinkage):
        ax = plot()
        labels = [t.get_text() for t in ax.texts] + [t.get_text() for t in ax.get_yticklabels()]
        assert not any("career_fair" in s for s in labels)
        plt.close(ax.figure)


def test_no_channel_column_is_explained():
    with pytest.raises(DataError, match="no hiring_channel column"):
        channels.analyse(_ds(_agents().drop(columns="hiring_channel")))


def test_one_channel_skips_the_ranking():
    agents = _agents().assign(hiring_channel="referral")
    result = channels.analyse(_ds(agents), follow_up_days=0)
    f = result.findings()
    assert len(f.channels) == 1 and "nothing to compare" in f.narrative()
    assert not any("channels differ" in h.lower() or "apart" in h for h in f.headlines())


def test_no_certification_data_omits_those_columns_with_a_note():
    agents = _agents().assign(certified=pd.array([pd.NA] * 191, dtype="boolean"))
    result = channels.analyse(_ds(agents), follow_up_days=0)
    assert result.table["cert_pass_rate"].isna().all()
    assert any("Certification columns left out" in n for n in result.notes)



def test_channel_names_on_the_chart_do_not_overlap(synthetic):
    """On the synthetic centre two names sat on top of each other ('walk_in' over 'job_board')."""
    import matplotlib.pyplot as plt

    from ccinsight import data as ccdata

    ds = ccdata.load(str(synthetic), ["agents"], optional=["training", "performance"])
    ax = channels.analyse(ds).plot()
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) >= 5
    overlapping = [(ax.texts[i].get_text(), ax.texts[j].get_text()) for i, a in enumerate(boxes)
                   for j, b in enumerate(boxes) if i < j and a.overlaps(b)]
    assert not overlapping
    labels = ax.get_legend().get_texts() if ax.get_legend() else []
    drawn = set(channels.analyse(ds).table["verdict"])
    assert {t.get_text() for t in labels} <= drawn  # legend entries only for verdicts on the chart
    plt.close(ax.figure)
