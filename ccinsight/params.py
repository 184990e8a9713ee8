"""Notebook parameters: what a notebook accepts, and strict checking of what it is given.

A notebook's ``parameters`` cell holds one annotated literal per line with a trailing
comment, e.g. ``month: Optional[str] = None  # analysis month YYYY-MM``: the form papermill's
own inspector reads (``papermill --help-notebook``, ``papermill.inspect_notebook``), so plain
papermill knows every name too. It is read with ``ast`` here, and lines papermill could not
read (``X | None`` annotations, a ``=`` in the help text) are refused. Every value passed to
a run is checked against it before anything executes: papermill only warns about unknown
names, ccinsight refuses them.
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
from ccinsight.errors import ParameterError, excerpt

PARAMETERS_TAG = "parameters"


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's parameters cell."""

    name: str
    type_text: str  # the annotation as written, e.g. "Optional[str]"
    default: Any
    help: str

    def check(self, value: Any, where: str) -> Any:
        """Return ``value`` if it fits the annotation (ints are accepted for floats)."""
        if _fits(value, self.type_text):
            return float(value) if _base(self.type_text) == "float" and isinstance(value, int) \
                and not isinstance(value, bool) else value
        raise ParameterError(f"{where}: parameter '{self.name}' must be {self.kind}, "
                             f"got {excerpt(value)} ({type(value).__name__}).")

    @property
    def kind(self) -> str:
        """The annotation in words: ``Optional[str]`` is "str or None", ``list[int]`` "list of int"."""
        options = re.sub(r"Optional\[(.*)\]", r"\1 | None", self.type_text).split("|")
        return " or ".join(re.sub(r"(\w+)\[(.*)\]", r"\1 of \2", t.strip()) for t in options)


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
        if isinstance(node.annotation, ast.BinOp) or line.count("=") != 1:
            raise ParameterError(f"{display_path(path)}: papermill cannot read line {node.lineno} of the parameters "
                                 "cell; write `X | None` as `Optional[X]` and keep '=' out of the help comment.")
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
            hints.append(excerpt(str(k), 40) + (f" (did you mean '{near}'?)" if near else ""))
        valid = ", ".join(f"{p.name}: {p.kind}" for p in accepted.values())
        raise ParameterError(f"{where}: unknown parameter {', '.join(hints)}. Valid parameters: {valid}.")
    checked = {k: accepted[k].check(v, where) for k, v in given.items()}
    if "min_cell_size" in checked:
        check_min_cell_size(checked["min_cell_size"], where)
    return checked


#: The smallest group a report may show: below it, people could be singled out.
MIN_CELL_FLOOR = 3


def check_min_cell_size(value: int, where: str) -> int:
    """Refuse a privacy threshold below :data:`MIN_CELL_FLOOR`."""
    if value < MIN_CELL_FLOOR:
        raise ParameterError(f"{where}: min_cell_size {value} is below the floor of {MIN_CELL_FLOOR}; groups that "
                             "small would single people out.")
    return value


def parse_assignments(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``--set key=value`` pairs; values are read as YAML (``5`` is an int, ``null`` None)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--set {pair!r}: expected key=value, e.g. --set month=2026-10.")
        try:
            value = yaml.load(text, Loader=_StrictLoader) if text.strip() else ""  # noqa: S506
        except yaml.YAMLError:
            value = text
        out[key.strip()] = _plain(value)
    return out


#: The largest params file read (a params file is a page of settings, not data).
MAX_PARAMS_BYTES = 1 << 20


class _StrictLoader(yaml.SafeLoader):
    """YAML for params files: a key given twice, and aliases (``*name``, which can expand a
    small file into gigabytes), are errors, not silently resolved."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(None, None, "aliases (*name) are not accepted in params files",
                                                    event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"the key {str(key)[:40]!r} is given twice",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_params_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML params file: a mapping of parameter names to values (keys once each, no
    aliases, at most 1 MB)."""
    path = Path(path)
    shown = display_path(path)
    if not path.is_file():
        raise ParameterError(f"Params file {shown} does not exist.")
    if path.stat().st_size > MAX_PARAMS_BYTES:
        raise ParameterError(f"Params file {shown} is {path.stat().st_size:,} bytes; a params file holds at most "
                             f"{MAX_PARAMS_BYTES:,}.")
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader
    except UnicodeDecodeError:
        raise ParameterError(f"Params file {shown} is not UTF-8 text.") from None
    except yaml.constructor.ConstructorError as err:
        mark = err.problem_mark
        raise ParameterError(f"Params file {shown}, line {mark.line + 1}: {err.problem}.") from None
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
