"""Notebook parameters: what a notebook accepts, and strict checking of what it is given.

A notebook's ``parameters`` cell holds one annotated literal per line with a trailing
comment, e.g. ``month: str | None = None  # analysis month YYYY-MM``. It is read with
``ast`` here (papermill's own inspector cannot parse ``X | None`` annotations) and every
value passed to a run is checked against it before anything executes: papermill only
warns about unknown names, ccinsight refuses them.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ccinsight.config import display_path
from ccinsight.errors import ParameterError

PARAMETERS_TAG = "parameters"


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's parameters cell."""

    name: str
    type_text: str  # the annotation as written, e.g. "str | None"
    default: Any
    help: str

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` if it fits the annotation (ints are accepted for floats)."""
        if _fits(value, self.type_text):
            return float(value) if _base(self.type_text) == "float" and isinstance(value, int) \
                and not isinstance(value, bool) else value
        raise ParameterError(f"{where}: parameter '{self.name}' must be {self.type_text}, "
                             f"got {value!r} ({type(value).__name__}).")


def _base(type_text: str) -> str:
    return type_text.replace("Optional[", "").split("|")[0].split("[")[0].strip()


_SIMPLE = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}


def _fits(value: Any, type_text: str) -> bool:
    options = [t.strip() for t in re.sub(r"Optional\[(.*)\]", r"\1 | None", type_text).split("|")]
    for t in options:
        if t == "None" and value is None:
            return True
        head, _, inner = t.partition("[")
        py = _SIMPLE.get(head)
        if py is None:
            continue
        if isinstance(value, bool) and head in ("int", "float"):
            continue
        if isinstance(value, py):
            if head == "list" and inner:
                return all(_fits(v, inner.rstrip("]")) for v in value)
            return True
    return False


def parameters_cell(nb: dict) -> dict | None:
    """The cell tagged ``parameters`` of a notebook (as read from its JSON), or None."""
    for cell in nb.get("cells", []):
        if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def notebook_parameters(path: str | Path) -> dict[str, Parameter]:
    """Read the parameters a notebook accepts from its ``parameters`` cell.

    Raises
    ------
    ParameterError
        When the cell is missing or holds anything but annotated literals.
    """
    path = Path(path)
    # plain JSON: nbformat's schema validators take seconds to import, too slow for a check
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = parameters_cell(nb)
    if cell is None:
        raise ParameterError(f"{display_path(path)} has no cell tagged 'parameters'.")
    source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    lines = source.splitlines()
    out: dict[str, Parameter] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value):
            raise ParameterError(f"{display_path(path)}: the parameters cell must hold only lines like "
                                 f"`name: type = literal  # help`; line {node.lineno} is not.")
        try:
            default = ast.literal_eval(node.value)
        except ValueError:
            raise ParameterError(f"{display_path(path)}: parameter '{node.target.id}' must default to a "
                                 "literal, not an expression (papermill does not recompute derived "
                                 "values).") from None
        line = lines[node.lineno - 1]
        help_text = line.split("#", 1)[1].strip() if "#" in line else ""
        out[node.target.id] = Parameter(node.target.id, ast.unparse(node.annotation), default, help_text)
    return out


def check_parameters(given: Mapping[str, Any], accepted: Mapping[str, Parameter], where: str) -> dict:
    """Check ``given`` against a notebook's parameters; return them checked.

    Unknown names and wrong types are refused with the valid names and their types.
    """
    unknown = [k for k in given if k not in accepted]
    if unknown:
        from ccinsight.contract import closest

        hints = []
        for k in unknown:
            near = closest(k, accepted)
            hints.append(f"'{k}'" + (f" (did you mean '{near}'?)" if near else ""))
        valid = ", ".join(f"{p.name}: {p.type_text}" for p in accepted.values())
        raise ParameterError(f"{where}: unknown parameter {', '.join(hints)}. Valid parameters: {valid}.")
    return {k: accepted[k].check(v, where) for k, v in given.items()}


def parse_assignments(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` pairs; values are read as YAML (``5`` is an int, ``null`` None)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--set {pair!r}: expected key=value, e.g. --set month=2026-10.")
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        out[key.strip()] = _plain(value)
    return out


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML params file: a mapping of parameter names to values."""
    path = Path(path)
    shown = display_path(path)
    if not path.is_file():
        raise ParameterError(f"Params file {shown} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ParameterError(f"Params file {shown} is not UTF-8 text.") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ParameterError(f"Params file {shown} is not valid YAML{where}.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(f"Params file {shown} must be a mapping of name: value, "
                             f"not a {type(data).__name__}.")
    return {str(k): _plain(v) for k, v in data.items()}


def _plain(value: Any) -> Any:
    """YAML reads 2026-10-01 as a date; notebooks take dates as ISO text."""
    import datetime as dt

    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
