"""postgres_changes filters (`column=op.value`, comma-joined ANDs), parsed and evaluated as Realtime does
(`subscriptions.ex`, `is_visible_through_filters.sql`): the value is cast to the column's type, INSERT/UPDATE are
tested against the new row, DELETE against the old one, and a filter column missing from the change never matches."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

OPERATORS = ("eq", "neq", "lt", "lte", "gt", "gte", "in")


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filter:
    column: str
    op: str
    value: str          # as written; `in` keeps the list text without parentheses

    def describe(self) -> str:
        value = "{" + self.value + "}" if self.op == "in" else self.value
        return f'{{"{self.column}", "{self.op}", "{value}", false}}'


def _split(text: str, sep: str) -> list[str]:
    """Split at `sep` outside parentheses and double quotes."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and quoted:
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        out, i = [], 1
        while i < len(value) - 1:
            if value[i] == "\\":
                i += 1
            out.append(value[i])
            i += 1
        return "".join(out)
    return value


def parse(text: str | None) -> list[Filter]:
    if text is None or not text.strip():
        return []
    filters = []
    for part in _split(text, ","):
        column, sep, rest = part.partition("=")
        if not sep or not column:
            raise FilterError(_reason([part]))
        op, dot, value = rest.partition(".")
        if op not in OPERATORS or not dot:
            raise FilterError(_reason([op, value] if dot else [rest]))
        if op == "in":
            if not (value.startswith("(") and value.endswith(")")):
                raise FilterError(_reason([op, value]))
            value = value[1:-1]
            if len(_split(value, ",")) > 100:
                raise FilterError("the `in` filter takes at most 100 values")
        filters.append(Filter(column.strip(), op, value))
    return filters


def _reason(parts: list[str]) -> str:
    return "Error parsing `filter` params: " + json.dumps(parts, ensure_ascii=False).replace('","', '", "')


@dataclass(frozen=True)
class Compiled:
    column: str
    op: str
    values: tuple[Any, ...]


def compile_filters(filters: list[Filter], convert: dict[str, Callable[[str], Any]]) -> list[Compiled]:
    """Cast each value to its column's type; an unknown column or a value the type refuses is a FilterError."""
    compiled = []
    for f in filters:
        if f.column not in convert:
            raise FilterError(f"invalid column for filter {f.column}")
        cast = convert[f.column]
        raw = [_unquote(v) for v in _split(f.value, ",")] if f.op == "in" else [f.value]
        try:
            values = tuple(cast(v) for v in raw)
        except (ValueError, TypeError):
            raise FilterError(f'invalid input value for column {f.column}: "{f.value}"') from None
        compiled.append(Compiled(f.column, f.op, tuple(_norm(v) for v in values)))
    return compiled


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) and len(value) == 36 and value.count("-") == 4 else value


def matches(filters: list[Compiled], row: dict[str, Any] | None) -> bool:
    if not filters:
        return True
    if row is None:
        return False
    for f in filters:
        if f.column not in row:
            return False
        actual = row[f.column]
        if actual is None:
            return False
        if type(actual) is str and len(actual) == 36:
            actual = _norm(actual)
        wanted = f.values[0]
        try:
            if f.op == "eq":
                ok = actual == wanted
            elif f.op == "neq":
                ok = actual != wanted
            elif f.op == "in":
                ok = actual in f.values
            elif f.op == "lt":
                ok = actual < wanted
            elif f.op == "lte":
                ok = actual <= wanted
            elif f.op == "gt":
                ok = actual > wanted
            else:
                ok = actual >= wanted
        except TypeError:
            return False
        if not ok:
            return False
    return True
