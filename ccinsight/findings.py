"""Recording a notebook's headline numbers.

A notebook calls :func:`record` with plain values (numbers, strings, lists of records).
They travel inside the executed notebook as a display output of MIME type
:data:`MIME_TYPE`, so there is no side file for a notebook to write or another notebook
to read by accident; the runner collects them into ``findings.json`` and the rendered
HTML leaves them out.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

MIME_TYPE = "application/vnd.ccinsight.findings+json"


def to_jsonable(value: Any) -> Any:
    """Convert numpy / pandas values into plain JSON values (NaN becomes null)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, (pd.Series, np.ndarray, list, tuple, set)):
        return [to_jsonable(v) for v in (sorted(value) if isinstance(value, set) else list(value))]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return value
    raise TypeError(f"findings must be numbers, strings, dates or lists of records; got {type(value).__name__}")


def record(findings: Mapping[str, Any] | None = None, **more: Any) -> None:
    """Record headline findings of the running notebook.

    Parameters
    ----------
    findings
        Name -> value; typically ``result.findings()``.
    **more
        Further name -> value pairs.

    Notes
    -----
    In a notebook the findings travel as a display output (shown as one line naming
    what was recorded); outside IPython nothing is shown. Values must be plain JSON
    (numbers, strings, dates, lists of records); anything else raises TypeError here,
    in the cell that recorded it.
    """
    data = to_jsonable({**(findings or {}), **more})
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    if get_ipython() is not None:
        display({MIME_TYPE: data, "text/plain": f"findings recorded: {', '.join(data)}"}, raw=True)


def collect(cells: Iterable[Mapping]) -> dict:
    """Merge every recorded findings output of an executed notebook's cells, in order."""
    merged: dict = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME_TYPE in data:
                payload = data[MIME_TYPE]
                merged.update(json.loads(payload) if isinstance(payload, str) else payload)
    return merged


def dumps(findings: Mapping) -> str:
    """Serialise findings deterministically (sorted keys, fixed layout)."""
    return json.dumps(to_jsonable(findings), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
