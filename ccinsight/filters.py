"""Row filters from params files: column expressions and nothing else.

A source's ``filter`` (e.g. ``duration > 0 and `Job Title` != "Intern"``) is untrusted
input, so it is never handed to an evaluator that can reach Python (pandas ``query``
resolves ``@name`` in the caller's globals). It is parsed into a syntax tree and only
these pieces are accepted:

- column names (bare, or in backticks when they hold spaces or other characters);
- literals: numbers, text in quotes, ``True``, ``False``, ``None``, and lists of them;
- comparisons ``== != < <= > >=`` (chains too), ``in`` and ``not in`` a list;
- ``and``, ``or``, ``not``, unary minus and parentheses.

Anything else (a call, an attribute, ``@``, subscripts, arithmetic) is refused with a
:class:`~ccinsight.errors.ParameterError` naming what is not allowed.
"""
from __future__ import annotations

import ast
import operator
import re

import pandas as pd

from ccinsight.errors import ParameterError

_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge}
_BACKTICK = re.compile(r"`([^`]+)`")
MAX_LENGTH = 2000


class _Refused(Exception):
    pass


def parse(text: str, where: str) -> tuple[ast.Expression, dict[str, str]]:
    """The expression's tree and the backticked names it uses; refuses anything that is not
    a column expression."""
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"{where}: a filter must be a non-empty text, e.g. duration > 0.")
    if len(text) > MAX_LENGTH:
        raise ParameterError(f"{where}: the filter is {len(text):,} characters long; at most {MAX_LENGTH:,}.")
    names: dict[str, str] = {}

    def placeholder(m: re.Match) -> str:
        key = f"__column_{len(names)}"
        names[key] = m.group(1)
        return key

    try:
        tree = ast.parse(_BACKTICK.sub(placeholder, text).strip(), mode="eval")
        _check(tree.body)
    except SyntaxError:
        raise ParameterError(f"{where}: the filter {_excerpt(text)} is not a column expression (columns, "
                             "literals, comparisons, in, and, or, not).") from None
    except _Refused as err:
        raise ParameterError(f"{where}: the filter {_excerpt(text)} uses {err}, which a filter may not; "
                             "use columns, literals, comparisons, in, and, or, not.") from None
    return tree, names


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        _check(node.operand)
    elif isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple)):
                    raise _Refused("'in' with something other than a list")
            elif type(op) not in _COMPARE:
                raise _Refused(f"the operator {type(op).__name__}")
            _check(right)
        _check(node.left)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for e in node.elts:
            if not isinstance(e, ast.Constant):
                raise _Refused("a list holding something other than literals")
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, (str, int, float, bool, type(None))):
            raise _Refused(f"the literal {node.value!r}")
    elif isinstance(node, ast.Name):
        pass
    else:
        raise _Refused({ast.Call: "a function call", ast.Attribute: "an attribute",
                        ast.Subscript: "a subscript", ast.BinOp: "arithmetic",
                        ast.Lambda: "a lambda"}.get(type(node), f"a {type(node).__name__}"))


def apply(frame: pd.DataFrame, text: str, where: str) -> pd.Series:
    """The rows of ``frame`` the filter keeps, as a boolean Series; a missing value never
    passes a comparison. Unknown columns are a ParameterError naming the columns found."""
    tree, names = parse(text, where)

    def column(name: str) -> pd.Series:
        real = names.get(name, name)
        if real not in frame.columns:
            found = ", ".join(str(c) for c in list(frame.columns)[:25])
            raise ParameterError(f"{where}: the filter names column '{real}', which the source does not have; "
                                 f"columns found: {found}.")
        return frame[real]

    def value(node: ast.AST):
        if isinstance(node, ast.Name):
            return column(node.id)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [e.value for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        return truth(node)

    def truth(node: ast.AST) -> pd.Series:
        if isinstance(node, ast.BoolOp):
            parts = [truth(v) for v in node.values]
            out = parts[0]
            for p in parts[1:]:
                out = (out & p) if isinstance(node.op, ast.And) else (out | p)
            return out
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return ~truth(node.operand)
        if isinstance(node, ast.Compare):
            left = value(node.left)
            out = pd.Series(True, index=frame.index)
            for op, right_node in zip(node.ops, node.comparators):
                right = value(right_node)
                if isinstance(op, (ast.In, ast.NotIn)):
                    hit = pd.Series(left, index=frame.index).isin(right)
                    result = hit if isinstance(op, ast.In) else ~hit
                else:
                    try:
                        result = _COMPARE[type(op)](left, right)
                    except TypeError as err:
                        raise ParameterError(f"{where}: the filter {_excerpt(text)} compares values of different "
                                             f"kinds ({str(err).splitlines()[0]}).") from None
                out = out & pd.Series(result, index=frame.index).fillna(False).astype(bool)
                left = right
            return out
        if isinstance(node, ast.Name):
            return column(node.id).fillna(False).astype(bool)
        raise ParameterError(f"{where}: the filter {_excerpt(text)} is not a condition on rows.")

    return pd.Series(truth(tree.body), index=frame.index).fillna(False).astype(bool)


def to_sql(text: str, where: str, column):
    """The filter as a SQLAlchemy condition, for a database to apply (:mod:`ccinsight.pushdown`):
    ``column(name)`` gives the expression of the export's column ``name`` (and raises for
    an unknown one). Rows are kept exactly as :func:`apply` keeps them: each comparison with
    a missing value is false, before ``not`` sees it."""
    import sqlalchemy as sa

    tree, names = parse(text, where)

    def value(node: ast.AST):
        if isinstance(node, ast.Name):
            return column(names.get(node.id, node.id))
        if isinstance(node, ast.Constant):
            return sa.null() if node.value is None else sa.literal(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        return truth(node)

    def known(condition):
        return sa.func.coalesce(condition, sa.false())

    def truth(node: ast.AST):
        if isinstance(node, ast.BoolOp):
            parts = [truth(v) for v in node.values]
            return sa.and_(*parts) if isinstance(node.op, ast.And) else sa.or_(*parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return sa.not_(truth(node.operand))
        if isinstance(node, ast.Compare):
            parts, left_node = [], node.left
            for op, right_node in zip(node.ops, node.comparators):
                if isinstance(op, (ast.In, ast.NotIn)):
                    listed = [e.value for e in right_node.elts]
                    hit = known(value(left_node).in_([v for v in listed if v is not None]))
                    if None in listed:
                        hit = sa.or_(hit, value(left_node).is_(None))
                    parts.append(hit if isinstance(op, ast.In) else sa.not_(hit))
                elif _is_none(left_node) or _is_none(right_node):
                    # as pandas has it: == None is never true, != None always
                    parts.append(sa.true() if isinstance(op, ast.NotEq) else sa.false())
                else:
                    parts.append(known(_COMPARE[type(op)](value(left_node), value(right_node))))
                left_node = right_node
            return sa.and_(*parts)
        if isinstance(node, ast.Name):
            return known(sa.cast(column(names.get(node.id, node.id)), sa.Boolean))
        raise ParameterError(f"{where}: the filter {_excerpt(text)} is not a condition on rows.")

    return truth(tree.body)


def _is_none(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
