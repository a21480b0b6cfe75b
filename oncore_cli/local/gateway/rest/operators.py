"""The filter operators: one fixed table from PostgREST's operator name to a SQL template. Each template gets the
left-hand side (an already-quoted column expression) and bound-parameter placeholders; a request's text never
becomes SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from psycopg import sql

Param = Callable[[object], sql.Composable]   # registers a value, returns its placeholder


@dataclass(frozen=True)
class TemplatedFilter:
    op: str
    template: str            # "{lhs} = {value}"; {value} is a placeholder, never text from the request

    def render(self, lhs: sql.Composable, value: sql.Composable) -> sql.Composed:
        return sql.SQL(self.template).format(lhs=lhs, value=value)


SIMPLE = {f.op: f for f in [
    TemplatedFilter("eq", "{lhs} = {value}"),
    TemplatedFilter("neq", "{lhs} <> {value}"),
    TemplatedFilter("gt", "{lhs} > {value}"),
    TemplatedFilter("gte", "{lhs} >= {value}"),
    TemplatedFilter("lt", "{lhs} < {value}"),
    TemplatedFilter("lte", "{lhs} <= {value}"),
    TemplatedFilter("like", "{lhs} LIKE {value}"),
    TemplatedFilter("ilike", "{lhs} ILIKE {value}"),
    TemplatedFilter("match", "{lhs} ~ {value}"),
    TemplatedFilter("imatch", "{lhs} ~* {value}"),
    TemplatedFilter("isdistinct", "{lhs} IS DISTINCT FROM {value}"),
    TemplatedFilter("cs", "{lhs} @> {value}"),
    TemplatedFilter("cd", "{lhs} <@ {value}"),
    TemplatedFilter("ov", "{lhs} && {value}"),
    TemplatedFilter("sl", "{lhs} << {value}"),
    TemplatedFilter("sr", "{lhs} >> {value}"),
    TemplatedFilter("nxr", "{lhs} &< {value}"),
    TemplatedFilter("nxl", "{lhs} &> {value}"),
    TemplatedFilter("adj", "{lhs} -|- {value}"),
]}

# `eq(any).{a,b}` / `like(all).{a*,b*}`: the operator applied to ANY/ALL elements of an array literal.
QUANTIFIED = {
    "eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
    "like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*",
}

IS_SQL = {
    "null": "{lhs} IS NULL", "not_null": "{lhs} IS NOT NULL", "true": "{lhs} IS TRUE",
    "false": "{lhs} IS FALSE", "unknown": "{lhs} IS UNKNOWN",
}

FTS_FUNCTIONS = {"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery",
                 "wfts": "websearch_to_tsquery"}


def pg_array_literal(items: list[str]) -> str:
    """A PostgreSQL array literal with every element quoted: the value of `in.(…)`, bound as one parameter."""
    quoted = ['"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items]
    return "{" + ",".join(quoted) + "}"


def like_pattern(value: str) -> str:
    return value.replace("*", "%")


def render(op: str, value, modifier: str | None, lhs: sql.Composable, param: Param, *,
           is_tsvector: bool = True) -> sql.Composed:
    """SQL for one filter (without `not.`); `value` is a str, or a list for `in`."""
    if op == "in":
        return sql.SQL("{lhs} = ANY({value})").format(lhs=lhs, value=param(pg_array_literal(value)))
    if op == "is":
        return sql.SQL(IS_SQL[value]).format(lhs=lhs)
    if op in FTS_FUNCTIONS:
        fn = sql.SQL(FTS_FUNCTIONS[op])
        if modifier:
            config = sql.SQL("{}::regconfig").format(param(modifier))
            query = sql.SQL("{fn}({config}, {value})").format(fn=fn, config=config, value=param(value))
            vector = lhs if is_tsvector else sql.SQL("to_tsvector({config}, {lhs})").format(config=config, lhs=lhs)
        else:
            query = sql.SQL("{fn}({value})").format(fn=fn, value=param(value))
            vector = lhs if is_tsvector else sql.SQL("to_tsvector({lhs})").format(lhs=lhs)
        return sql.SQL("{vector} @@ {query}").format(vector=vector, query=query)
    if modifier in ("any", "all"):
        text = like_pattern(value) if op in ("like", "ilike") else value
        return sql.SQL("{lhs} {op} {quant}({value})").format(
            lhs=lhs, op=sql.SQL(QUANTIFIED[op]), quant=sql.SQL(modifier.upper()), value=param(text))
    if op in ("like", "ilike"):
        value = like_pattern(value)
    return SIMPLE[op].render(lhs, param(value))
