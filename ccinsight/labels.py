"""What readers see instead of column names and codes: a params file's ``labels`` section.

Reports and the deck page never show a contract column's name or a raw code. Every
figure, table, legend and sentence names a column and its values through :class:`Labels`::

    labels:
      currency: CNY                       # amounts read "CNY 1,565"
      columns:
        onboarding_program: mentoring programme
      values:
        onboarding_program: {true: mentored, false: not mentored}
        hiring_channel: {walk_in: walk-in}

Without an entry a column reads as its name with spaces (``hiring_channel`` ->
"hiring channel"), a value likewise (``job_board`` -> "job board"), and a yes/no column's
values as "hiring channel: yes" / "...: no". Labels change words only, never which rows
an analysis uses: parameters keep naming columns and values as the contract does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ccinsight import contract
from ccinsight.errors import ParameterError, excerpt

#: Keys of a ``labels`` section, with what each holds (for messages and docs).
KEYS = {
    "currency": "the currency amounts are in, e.g. CNY or EUR (shown before the amount)",
    "columns": "contract column -> the name readers see",
    "values": "contract column -> {value: the name readers see}",
}

#: Columns the analyses derive, which a labels section may name beside the contract's.
DERIVED_COLUMNS = ("hire_quarter",)


def _known_columns() -> list[str]:
    names = [f.name for table in contract.TABLES.values() for f in table.fields]
    return list(dict.fromkeys(names + list(DERIVED_COLUMNS)))


def _key(value: Any) -> str:
    """A value as the key it is looked up by: True and 'True' alike, 3 and '3' alike."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Labels:
    """Display names of columns and values, and the currency."""

    columns: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    currency: str = ""

    def column(self, name: str) -> str:
        """'hiring_channel' -> 'hiring channel', or the name the labels give."""
        return self.columns.get(name) or str(name).replace("_", " ")

    def value(self, column: str, value: Any) -> str:
        """A value of ``column`` as readers see it."""
        key = _key(value)
        given = self.values.get(column, {}).get(key)
        if given:
            return given
        if key in ("True", "False"):
            return f"{self.column(column)}: {'yes' if key == 'True' else 'no'}"
        return key.replace("_", " ")

    def term(self, column: str, value: Any = None) -> str:
        """A model term: 'hiring channel: agency', or the column alone for a number."""
        return self.column(column) if value is None else f"{self.column(column)}: {self.value(column, value)}"

    def contrast(self, column: str) -> str:
        """A yes/no column as a model term: 'mentored (vs not mentored)', or 'onboarding
        program (yes vs no)' where its values have no labels."""
        given = self.values.get(column, {})
        if given.get("True") and given.get("False"):
            return f"{given['True']} (vs {given['False']})"
        return f"{self.column(column)} (yes vs no)"

    def to_json(self) -> dict:
        return {"currency": self.currency, "columns": dict(self.columns),
                "values": {c: dict(v) for c, v in self.values.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "Labels":
        data = data or {}
        return cls(dict(data.get("columns") or {}), {c: dict(v) for c, v in (data.get("values") or {}).items()},
                   str(data.get("currency") or ""))


def parse(section: Any, where: str = "params") -> Labels:
    """Check a ``labels`` section and return it as :class:`Labels` (None or {} -> no labels)."""
    if isinstance(section, Labels):
        return section
    if not section:
        return Labels()
    if not isinstance(section, Mapping):
        raise ParameterError(f"{where}: 'labels' must be a mapping with {', '.join(KEYS)}; "
                             f"got {type(section).__name__} {excerpt(section)}.")
    unknown = [str(k) for k in section if k not in KEYS]
    if unknown:
        raise ParameterError(f"{where}: labels has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(KEYS)}.")
    currency = section.get("currency") or ""
    if not isinstance(currency, str):
        raise ParameterError(f"{where}: labels.currency must be text such as CNY; got {excerpt(currency)}.")
    known = _known_columns()
    columns = _mapping(section.get("columns"), f"{where}: labels.columns")
    values_in = section.get("values") or {}
    if not isinstance(values_in, Mapping):
        raise ParameterError(f"{where}: labels.values must map columns to {{value: name}}; got {excerpt(values_in)}.")
    values = {str(c): _mapping(v, f"{where}: labels.values.{c}") for c, v in values_in.items()}
    for what, names in (("columns", columns), ("values", values)):
        strange = [c for c in names if c not in known]
        if strange:
            near = contract.closest(strange[0], known)
            raise ParameterError(f"{where}: labels.{what} names {', '.join(repr(c) for c in strange)}, not a "
                                 "column of the contract" + (f" (did you mean '{near}'?)" if near else "") + ".")
    return Labels(columns, values, currency)


def _mapping(raw: Any, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ParameterError(f"{where} must be a mapping of names; got {excerpt(raw)}.")
    out = {}
    for k, v in raw.items():
        if not isinstance(v, str) or not v.strip():
            raise ParameterError(f"{where}.{k} must be a non-empty text; got {excerpt(v)}.")
        out[_key(k)] = v.strip()
    return out
