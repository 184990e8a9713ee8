"""Typed findings: what each analysis reports, declared once.

An analysis declares its findings as a frozen dataclass deriving from :class:`Findings`;
each field is made with :func:`fact` (what it means and its unit). An estimate is an
:class:`Estimate` (value, 95% interval, n). The class also holds the headline sentences
(:meth:`Findings.headlines`), which the notebook's narrative and the deck page both show,
and the tracked metrics the deck compares month to month.

A notebook calls :func:`record` with its findings (and its provenance). They travel inside
the executed notebook as a display output of MIME type :data:`MIME_TYPE`, so there is no
side file for a notebook to write or another notebook to read by accident; the runner
collects them into ``findings.json`` and checks them against the analysis' class
(:meth:`Findings.from_json`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Mapping

import numpy as np
import pandas as pd

from ccinsight import wording
from ccinsight.labels import Labels

MIME_TYPE = "application/vnd.ccinsight.findings+json"

#: Units a fact may have, with what they mean (docs/findings.md lists them).
UNITS = {
    "count": "a whole number of hires, calls, classes, ...",
    "share": "a proportion between 0 and 1 (shown as a percentage)",
    "points": "a difference of two shares (shown in percentage points)",
    "percent": "a relative change in percent",
    "r": "a correlation coefficient between -1 and 1",
    "seconds": "a duration in seconds (shown as m:ss)",
    "days": "a number of days",
    "money": "an amount in the currency of the channels table (named by the params' labels.currency)",
    "number": "a plain number in the unit its description names",
    "p": "a p-value",
    "date": "a date, YYYY-MM-DD",
    "month": "a month, YYYY-MM",
    "text": "text",
    "flag": "true or false",
    "records": "a table: a list of rows, each a mapping of column to value",
    "list": "a list of texts",
    "facts": "a mapping of names to values",
}


@dataclass(frozen=True)
class Estimate:
    """A number estimated from data, with its 95% interval and the units it rests on."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None

    @classmethod
    def of(cls, value, low=None, high=None, n=None) -> "Estimate":
        """Plain floats (NaN -> None) from numpy / pandas values."""
        return cls(*(_plain_number(v) for v in (value, low, high)), None if n is None else int(n))

    @property
    def known(self) -> bool:
        return self.value is not None

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def text(self, unit: str) -> str:
        """'76.5% (95% CI 75.8% to 77.3%)', in the words of :mod:`ccinsight.wording`."""
        return wording.estimate(self.value, self.low, self.high, unit)


def _plain_number(v):
    if v is None or v is pd.NA:
        return None
    v = float(v)
    return None if math.isnan(v) or math.isinf(v) else v


def fact(doc: str, unit: str, **kw) -> Any:
    """A findings field: its meaning and unit (one of :data:`UNITS`)."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    return dataclasses.field(metadata={"doc": doc, "unit": unit}, **kw)


@dataclass(frozen=True)
class Tracked:
    """A metric the deck compares with the previous month (a field holding an Estimate)."""

    field: str
    label: str
    higher_is_better: bool


class FindingsError(ValueError):
    """Recorded findings that do not fit their analysis' declared class (a bug, not bad input)."""


@dataclass(frozen=True)
class Findings:
    """Base of every analysis' findings."""

    #: Metrics the deck tracks month to month.
    tracked: ClassVar[tuple[Tracked, ...]] = ()

    #: The words the sentences use for columns, values and the currency (the params' labels),
    #: so the deck page rebuilt from findings.json says what the report says.
    labels: dict = dataclasses.field(default_factory=dict, kw_only=True, metadata={
        "doc": "the names sentences use for columns and values, and the currency (the params' labels)",
        "unit": "facts"})

    @property
    def names(self) -> Labels:
        """:attr:`labels` as :class:`ccinsight.labels.Labels`."""
        return Labels.from_json(self.labels)

    # ------------------------------------------------------------------ words
    def headlines(self) -> list[str]:
        """The findings in plain sentences (no markup), shown on the deck page and at the top
        of the notebook's narrative, word for word."""
        raise NotImplementedError

    def details(self) -> list[str]:
        """Further sentences (Markdown) for the notebook only."""
        return []

    def attention(self) -> list[tuple[str, str]]:
        """What the deck page's summary lists for a manager: ("missed target", sentence) where
        an estimate is clearly on the wrong side of a target from the params (its whole 95%
        interval), ("action", sentence) where a verdict or a plan asks for one. Plain text."""
        return []

    def rule(self) -> str | None:
        """The rule behind this analysis' verdicts or flags, shown beside them on the deck page."""
        return None

    def narrative(self) -> str:
        """Markdown for the top of the rendered notebook: the headlines, then the details."""
        lines = [f"- {markdown_text(h)}" for h in self.headlines()]
        return "\n".join(lines + list(self.details()))

    def _repr_markdown_(self) -> str:
        return self.narrative()

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        """Plain JSON values; estimates as {value, low, high, n}."""
        return {f.name: to_jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Findings":
        """Rebuild findings from ``findings.json``, checking every field against the class."""
        names = [f.name for f in dataclasses.fields(cls)]
        missing_ = [n for n in names if n not in data]
        extra = [k for k in data if k not in names]
        if missing_ or extra:
            raise FindingsError(f"{cls.__name__}: findings do not fit the declared fields"
                                + (f"; missing {', '.join(missing_)}" if missing_ else "")
                                + (f"; undeclared {', '.join(extra)}" if extra else "") + ".")
        hints = typing.get_type_hints(cls)
        values = {}
        for name in names:
            values[name] = _check(cls.__name__, name, hints[name], data[name])
        return cls(**values)

    @classmethod
    def schema(cls) -> list[dict]:
        """One row per field: name, type, unit, description (for docs/findings.md and ``list``)."""
        hints = typing.get_type_hints(cls)
        return [{"name": f.name, "type": _type_text(hints[f.name]), "unit": f.metadata.get("unit", ""),
                 "doc": f.metadata.get("doc", "")} for f in dataclasses.fields(cls)]


def markdown_text(text: str) -> str:
    """Plain text for Markdown: characters Markdown would read as markup are escaped, so the
    rendered sentence is the text itself."""
    out = []
    for ch in str(text):
        out.append("\\" + ch if ch in "\\`*_{}[]<>#|~" else ch)
    return "".join(out)


def _type_text(tp) -> str:
    if tp is type(None):
        return "null"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(a) for a in typing.get_args(tp))
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    return getattr(tp, "__name__", str(tp))


def _check(owner: str, name: str, tp, value):
    """``value`` (from JSON) as type ``tp``, or FindingsError."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _check(owner, name, option, value)
            except FindingsError:
                continue
        raise FindingsError(f"{owner}.{name}: {value!r} is not {_type_text(tp)}.")
    if tp is Estimate:
        if isinstance(value, Estimate):
            return value
        if isinstance(value, Mapping) and set(value) == {"value", "low", "high", "n"}:
            return Estimate(**value)
        raise FindingsError(f"{owner}.{name}: {value!r} is not an estimate {{value, low, high, n}}.")
    base = origin or tp
    ok = {float: (int, float), int: (int,), str: (str,), bool: (bool,), list: (list,), dict: (dict,)}.get(base)
    if ok is None or not isinstance(value, ok) or (base in (int, float) and isinstance(value, bool)):
        raise FindingsError(f"{owner}.{name}: {value!r} is not {_type_text(tp)}.")
    return float(value) if base is float else value


# --------------------------------------------------------------------------- JSON values
def to_jsonable(value: Any) -> Any:
    """Convert numpy / pandas values into plain JSON values (NaN becomes null)."""
    if isinstance(value, Findings):
        return value.to_json()
    if isinstance(value, Estimate):
        return dataclasses.asdict(value)
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


#: Keys of the provenance a notebook records beside its findings (the run record shows them).
PROVENANCE_KEYS = ("data_sources", "data_skipped", "data_notes")


def record(findings: Findings | Mapping[str, Any] | None = None, **more: Any) -> None:
    """Record a notebook's findings (a :class:`Findings`) or its provenance (a mapping).

    In a notebook the values travel as a display output with no visible text; outside
    IPython nothing happens. Values must be plain JSON (numbers, strings, dates, lists
    of records); anything else raises TypeError here, in the cell that recorded it.
    """
    data = to_jsonable(findings) if isinstance(findings, Findings) else to_jsonable({**(findings or {}), **more})
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return
    if get_ipython() is not None:
        display({MIME_TYPE: data, "text/plain": ""}, raw=True)


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


def split(recorded: Mapping[str, Any]) -> tuple[dict, dict]:
    """(findings, provenance) of what a notebook recorded."""
    return ({k: v for k, v in recorded.items() if k not in PROVENANCE_KEYS},
            {k: v for k, v in recorded.items() if k in PROVENANCE_KEYS})


def dumps(findings: Mapping) -> str:
    """Serialise findings deterministically (sorted keys, fixed layout)."""
    return json.dumps(to_jsonable(findings), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
