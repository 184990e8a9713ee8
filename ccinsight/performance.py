"""Performance on the floor after training: metrics and the months that count.

The training analysis relates these windows to training scores; the hiring-channel
analysis averages them per channel as early performance.
"""
from __future__ import annotations

import pandas as pd

from ccinsight.errors import DataError, ParameterError
from ccinsight.period import months_between

#: Performance metrics and their direction: +1 higher is better, -1 lower is better.
METRICS = {"conversion_rate": 1, "qa_score": 1, "aht_s": -1, "schedule_adherence": 1, "calls_handled": 1}
METRIC_LABELS = {"conversion_rate": "conversion rate", "qa_score": "QA score", "aht_s": "AHT (s)",
                 "schedule_adherence": "schedule adherence", "calls_handled": "calls handled"}
#: Metrics that are shares (shown as percentages and percentage points).
SHARE_METRICS = ("conversion_rate", "schedule_adherence")


def metric_label(metric: str, names=None) -> str:
    """The metric as readers see it: the params' label for the column, else its usual name."""
    given = names.columns.get(metric) if names is not None else None
    return given or METRIC_LABELS.get(metric, metric.replace("_", " "))


def metric_unit(metric: str) -> str:
    """How the metric's values are formatted (:data:`ccinsight.tables.UNITS`)."""
    return "share" if metric in SHARE_METRICS else "seconds" if metric == "aht_s" else "number"


def check_metric(metric: str) -> int:
    """Return the metric's direction; refuse unknown names listing the valid ones."""
    if metric not in METRICS:
        raise ParameterError(f"Unknown performance metric '{metric}'; valid metrics: {', '.join(METRICS)}.")
    return METRICS[metric]


def window_performance(training: pd.DataFrame, performance: pd.DataFrame, metric: str,
                       window: tuple[int, int] = (2, 3)) -> pd.DataFrame:
    """Each trainee's mean ``metric`` over months ``window`` after the training-end month.

    Month 1 is the first calendar month after the month training ended. Trainees with no
    performance row in the window (left early, or not yet that far) are left out.

    Returns
    -------
    DataFrame
        agent_id, cohort_id, training_score, training_end_date, performance, months.
    """
    check_metric(metric)
    first, last = window
    if not 1 <= first <= last:
        raise ParameterError(f"The performance window must satisfy 1 <= start <= end; got {first}..{last}.")
    if training.empty:
        raise DataError("The training table has no rows: there are no training scores to relate to performance.")
    perf = performance[["agent_id", "month", metric]].dropna(subset=[metric])
    merged = perf.merge(training[["agent_id", "cohort_id", "training_score", "training_end_date"]], on="agent_id")
    merged = merged[months_between(merged["month"], merged["training_end_date"]).between(first, last)]
    if merged.empty:
        raise DataError(f"No {metric} values fall in months {first}-{last} after training end for any "
                        "trainee; widen the window or check that performance months follow training.")
    return (merged.groupby(["agent_id", "cohort_id", "training_score", "training_end_date"], as_index=False)
            .agg(performance=(metric, "mean"), months=(metric, "size")))
