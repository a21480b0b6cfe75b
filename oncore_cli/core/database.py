"""Direct PostgreSQL connections (`--db-url`, the local stack's socket), with errors turned into one line."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def connect(conninfo: str, autocommit: bool = True):
    """A psycopg connection; connection failures and database errors raised inside become OncoreError."""
    import psycopg

    from oncore_cli.core.errors import OncoreError, from_postgrest

    try:
        with psycopg.connect(conninfo, autocommit=autocommit, connect_timeout=10) as conn:
            yield conn
    except psycopg.OperationalError as e:
        if e.sqlstate:  # an error from the server (e.g. a statement timeout), not a failed connection
            raise OncoreError(f"database error: {_message(e)}") from None
        raise OncoreError(f"cannot connect to the database: {str(e).strip().splitlines()[0]}") from None
    except psycopg.Error as e:
        # The same one line and exit code as the API would give for this SQLSTATE.
        raise from_postgrest(400, {"code": e.sqlstate, "message": _message(e)}) from None


def _message(error) -> str:
    diag = getattr(error, "diag", None)
    return (diag.message_primary if diag and diag.message_primary else str(error)).strip()
