"""Find UPDATE and DELETE statements without a WHERE clause inside the functions a migration creates.

Hosted Supabase preloads the `safeupdate` extension for API requests, so such a statement fails (21000) when its
function is called through the API or fires as a trigger of an API write. The local stack refuses WHERE-less
writes of /rest/v1 itself, but cannot load the C extension into PostgreSQL; instead, migrations are checked when
they are applied and each finding is reported. Parsing uses PostgreSQL's own parser (pglast): SQL functions, SQL
`BEGIN ATOMIC` bodies and PL/pgSQL bodies; dynamic SQL (EXECUTE) is out of reach.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

_WRITES = {"DeleteStmt": "DELETE", "UpdateStmt": "UPDATE"}
_QUOTE = re.compile(r"\$[A-Za-z_0-9]*\$|'|E'", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    line: int          # 1-based line in the migration file
    function: str      # schema-qualified as written
    command: str       # UPDATE | DELETE

    def message(self, file: str) -> str:
        return (f"{file}:{self.line}: {self.command} without WHERE in function {self.function}: hosted Supabase "
                f"refuses it (21000, safeupdate) when the function runs through the API")


def unguarded_writes(source: str) -> list[Finding]:
    """The WHERE-less UPDATE/DELETE statements in the function bodies of `source`, in file order.

    Returns nothing when pglast is not installed or the file does not parse (PostgreSQL reports that itself)."""
    try:
        from pglast import parser
    except ImportError:  # pragma: no cover - pglast comes with the local extra
        return []
    data = source.encode()
    try:
        tree = json.loads(parser.parse_sql_json(source))
    except Exception:  # noqa: BLE001 - pglast raises ParseError; any failure means "cannot check"
        return []
    findings: list[Finding] = []
    for raw in tree.get("stmts", []):
        create = raw.get("stmt", {}).get("CreateFunctionStmt")
        if not create:
            continue
        start = raw.get("stmt_location", 0)
        text = data[start:start + raw["stmt_len"]] if raw.get("stmt_len") else data[start:]
        findings.extend(_in_function(create, text.decode(), start, data, parser))
    return sorted(findings, key=lambda f: f.line)


def _in_function(create: dict, text: str, start: int, data: bytes, parser) -> Iterator[Finding]:
    name = ".".join(part["String"]["sval"] for part in create["funcname"])
    options = {o["DefElem"]["defname"]: o["DefElem"] for o in create.get("options", [])}
    language = options.get("language", {}).get("arg", {}).get("String", {}).get("sval", "sql").lower()
    if "sql_body" in create:  # BEGIN ATOMIC: parsed with the file, locations are file offsets
        for command, location in _writes(create["sql_body"]):
            yield Finding(_line(data, location), name, command)
        return
    body_def = options.get("as")
    if not body_def or body_def.get("arg_location", -1) < 0:
        return
    quote = _QUOTE.match(data.decode(errors="replace"), _char_offset(data, body_def["arg_location"]))
    body_start = body_def["arg_location"] + (len(quote.group(0)) if quote else 0)
    if language == "sql":
        body = body_def["arg"]["List"]["items"][0]["String"]["sval"]
        try:
            parsed = json.loads(parser.parse_sql_json(body))
        except Exception:  # noqa: BLE001
            return
        for command, location in _writes(parsed):
            yield Finding(_line(data, body_start) + body.encode()[:location].count(b"\n"), name, command)
    elif language == "plpgsql":
        try:
            functions = json.loads(parser.parse_plpgsql_json(text))
        except Exception:  # noqa: BLE001
            return
        first = _line(data, body_start)
        for lineno, query in _plpgsql_queries(functions):
            try:
                parsed = json.loads(parser.parse_sql_json(query))
            except Exception:  # noqa: BLE001
                continue
            for command, _ in _writes(parsed):
                yield Finding(first + lineno - 1, name, command)


def _writes(node) -> Iterator[tuple[str, int]]:
    """(command, location of its table) for each UPDATE/DELETE with no WHERE anywhere in a parse tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _WRITES and isinstance(value, dict) and "whereClause" not in value:
                yield _WRITES[key], value.get("relation", {}).get("location", 0)
            yield from _writes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _writes(item)


def _plpgsql_queries(node, lineno: int = 1) -> Iterator[tuple[int, str]]:
    """(line in the body, SQL text) of every SQL statement a PL/pgSQL function runs."""
    if isinstance(node, dict):
        lineno = node.get("lineno", lineno)
        expr = node.get("PLpgSQL_expr")
        if expr and expr.get("parseMode", 0) == 0 and expr.get("query"):
            yield lineno, expr["query"]
        for value in node.values():
            yield from _plpgsql_queries(value, lineno)
    elif isinstance(node, list):
        for item in node:
            yield from _plpgsql_queries(item, lineno)


def _line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _char_offset(data: bytes, byte_offset: int) -> int:
    return len(data[:byte_offset].decode(errors="replace"))
