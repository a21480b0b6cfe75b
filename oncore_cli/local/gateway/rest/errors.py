"""PostgREST's error shape and status mapping (PostgREST `Error.hs`): one exception type, one renderer."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class PostgRESTError(Exception):
    """An error answered as `{code, message, details, hint}` with PostgREST's status and headers."""

    def __init__(self, status: int, code: str, message: str, details: Any = None, hint: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}

    def response(self, head: bool = False) -> Response:
        headers = {"Proxy-Status": f"PostgREST; error={self.code}", **self.headers}
        content = b"" if head else json.dumps(self.body(), ensure_ascii=False).encode()
        return Response(content, status_code=self.status, headers=headers,
                        media_type="application/json; charset=utf-8")


# -- query-string and request errors (PGRST1xx / PGRST2xx) -------------------------------------------------
def parse_error(what: str, details: str) -> PostgRESTError:
    return PostgRESTError(400, "PGRST100", f'"failed to parse {what}"', details)


def invalid_body(message: str = "Empty or invalid json") -> PostgRESTError:
    return PostgRESTError(400, "PGRST102", message)


def invalid_range(details: str) -> PostgRESTError:
    return PostgRESTError(416, "PGRST103", "Requested range not satisfiable", details)


def schema_not_exposed(schema: str, exposed: list[str]) -> PostgRESTError:
    return PostgRESTError(406, "PGRST106", f"Invalid schema: {schema}", None,
                          f"Only the following schemas are exposed: {', '.join(exposed)}")


def not_acceptable(accept: str) -> PostgRESTError:
    return PostgRESTError(406, "PGRST107", f"None of these media types are available: {accept}")


def singular(rows: int) -> PostgRESTError:
    return PostgRESTError(406, "PGRST116", "Cannot coerce the result to a single JSON object",
                          f"The result contains {rows} rows")


def no_relationship(parent: str, child: str, schema: str = "public") -> PostgRESTError:
    return PostgRESTError(
        400, "PGRST200",
        f"Could not find a relationship between '{parent}' and '{child}' in the schema cache",
        f"Searched for a foreign key relationship between '{parent}' and '{child}' in the schema '{schema}', "
        "but no matches were found.",
        None)


def column_not_found(column: str, table: str) -> PostgRESTError:
    return PostgRESTError(400, "PGRST204", f"Could not find the '{column}' column of '{table}' in the schema cache")


def table_not_found(schema: str, table: str) -> PostgRESTError:
    return PostgRESTError(404, "PGRST205", f"Could not find the table '{schema}.{table}' in the schema cache")


def undefined_column(table: str, column: str) -> PostgRESTError:
    # What PostgreSQL itself answers (42703) when PostgREST passes an unknown column through.
    return PostgRESTError(400, "42703", f"column {table}.{column} does not exist")


def where_required(command: str) -> PostgRESTError:
    # What the safeupdate extension (preloaded for API requests on hosted Supabase) raises for an UPDATE or
    # DELETE with no WHERE clause, with the status PostgREST gives it.
    return PostgRESTError(400, "21000", f"{command} requires a WHERE clause")


# -- JWT (PGRST3xx) -----------------------------------------------------------------------------------------
def jwt_error(reason: str, claims: bool = False) -> PostgRESTError:
    description = reason.replace('"', "'")
    return PostgRESTError(
        401, "PGRST303" if claims else "PGRST301", reason,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})


# -- database errors ----------------------------------------------------------------------------------------
def status_for_sqlstate(code: str, message: str, anonymous: bool) -> int:
    """`mapSQLtoHTTP`: the first matching rule wins."""
    exact = {
        "23503": 409, "23505": 409, "25006": 405, "53400": 500, "57P01": 503, "P0001": 400,
        "42883": 404, "42P01": 404, "42P17": 500,
    }
    if code in exact:
        return exact[code]
    if code == "42501":
        return 401 if anonymous else 403
    if code == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if code == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if len(code) == 5 and code.startswith("PT") and code[2:].isdigit():
        return int(code[2:])
    prefixes = [("08", 503), ("09", 500), ("0L", 403), ("0P", 403), ("25", 500), ("28", 403), ("2D", 500),
                ("38", 500), ("39", 500), ("3B", 500), ("40", 500), ("53", 503), ("54", 500), ("55", 500),
                ("57", 500), ("58", 500), ("F0", 500), ("HV", 500), ("P0", 500), ("XX", 500)]
    for prefix, status in prefixes:
        if code.startswith(prefix):
            return status
    return 400


def from_database(exc: Exception, anonymous: bool) -> PostgRESTError:
    """Translate a psycopg error into PostgREST's answer, including `RAISE ... USING ERRCODE = 'PGRST'`."""
    diag = getattr(exc, "diag", None)
    code = getattr(exc, "sqlstate", None) or "XX000"
    message = (diag.message_primary if diag else None) or str(exc)
    details = diag.message_detail if diag else None
    hint = diag.message_hint if diag else None
    if code == "PGRST":
        return _raised_pgrst(message, details)
    status = status_for_sqlstate(code, message, anonymous)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return PostgRESTError(status, code, message, details, hint, headers)


def _raised_pgrst(message: str, details: str | None) -> PostgRESTError:
    """`RAISE SQLSTATE 'PGRST' USING MESSAGE = '{"code":..,"message":..}', DETAIL = '{"status":..,"headers":..}'`."""
    try:
        body = json.loads(message)
        meta = json.loads(details or "{}")
        status = int(meta["status"])
        headers = {str(k): str(v) for k, v in (meta.get("headers") or {}).items()}
        return PostgRESTError(status, str(body.get("code", "")), body.get("message", ""), body.get("details"),
                              body.get("hint"), headers)
    except (ValueError, KeyError, TypeError, AttributeError):
        return PostgRESTError(500, "PGRST121", "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
                              "Invalid JSON value for MESSAGE or DETAIL", None)
