"""Error bars from intervals: what matplotlib is handed."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402

from ccinsight.plotting import error_extent  # noqa: E402


def test_an_all_accepted_bin_plots():
    """9 of 9 accepted: statsmodels' Wilson upper bound is 1 - 1.1e-16, under the rate of 1,
    and matplotlib refused the bar ('yerr' must not contain negative values); the script
    notebook of March 2026 on the default data failed on it."""
    rate = np.array([1.0, 0.5])
    low, high = proportion_confint(np.array([9, 5]), np.array([9, 10]), method="wilson")
    assert high[0] < rate[0]  # the rounding this guards against
    extent = error_extent(rate, low, high)
    assert extent.shape == (2, 2) and (extent >= 0).all()
    assert extent[1, 0] == 0 and extent[0, 0] == pytest.approx(1 - low[0])
    assert extent[:, 1] == pytest.approx([0.5 - low[1], high[1] - 0.5])
    _, ax = plt.subplots()
    ax.errorbar([0, 1], rate, yerr=extent)
    plt.close("all")


def test_one_point_and_missing_bounds():
    assert error_extent(2.0, 1.5, 3.0).tolist() == [[0.5], [1.0]]
    assert np.isnan(error_extent(2.0, np.nan, 3.0)[0, 0])
