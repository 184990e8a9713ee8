"""The registry of analyses: one module each, in the order the deck shows them.

Adding an analysis takes one module here (with its findings class and ``ANALYSIS``
entry), one notebook in ``notebooks/`` and one line below; see
``docs/adding-an-analysis.md``.
"""
from __future__ import annotations

from ccinsight.analyses import attrition, channels, kpi, overview, scripts, seats, training
from ccinsight.analysis import Analysis
from ccinsight.errors import ParameterError

REGISTRY: dict[str, Analysis] = {a.name: a for a in (
    overview.ANALYSIS,
    training.ANALYSIS,
    scripts.ANALYSIS,
    attrition.ANALYSIS,
    seats.ANALYSIS,
    kpi.ANALYSIS,
    channels.ANALYSIS,
)}


def get(name: str) -> Analysis:
    """The analysis called ``name``; unknown names are refused listing the valid ones."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ParameterError(f"No analysis named '{name}'; analyses: {', '.join(REGISTRY)}.") from None
