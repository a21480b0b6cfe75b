"""Apply the Supabase bootstrap SQL, then supabase/migrations in order, recorded as the supabase CLI records them.

The one migration runner: `oncore local start|reset`, the test fixtures and `oncore db push` use these functions,
each with a psycopg connection (or a URL) of their own. As on hosted Supabase, the bootstrap runs as the superuser
and every migration as the demoted `postgres`, each file in one transaction after `RESET ALL` with
`lock_timeout = '4s'` (what `supabase db push` does), so a migration hosted Supabase would refuse fails here too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from oncore_cli.local.paths import bootstrap_dir, supabase_dir

# Runs as the superuser after the other bootstrap files (which run as `postgres` while it is still one, as
# supabase/postgres' init scripts do): takes `postgres` down to what hosted Supabase leaves it.
DEMOTE_FILE = "99_demote_postgres.sql"
LOCK_TIMEOUT = "4s"

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @classmethod
    def from_path(cls, path: Path) -> "Migration":
        version, _, name = path.stem.partition("_")
        return cls(version, name, path)


def list_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or supabase_dir() / "migrations"
    return sorted((Migration.from_path(p) for p in directory.glob("*.sql")), key=lambda m: m.version)


class MigrationError(RuntimeError):
    """A file was refused: `file:line: PostgreSQL's message (its context)`."""

    def __init__(self, migration: str, error: psycopg.Error, line: int | None = None) -> None:
        diag = error.diag
        where = f" ({diag.context.strip().splitlines()[-1]})" if diag and diag.context else ""
        self.sqlstate = error.sqlstate
        self.line = line
        at = f"{migration}:{line}" if line else migration
        super().__init__(f"{at}: {diag.message_primary if diag else error}{where}")


@dataclass(frozen=True)
class Statement:
    sql: str
    line: int                  # where it starts in its file
    tree: dict | None = None   # PostgreSQL's parse tree of it (pglast's JSON), when parsed


def split_statements(text: str) -> list[Statement]:
    """The file's statements as PostgreSQL's parser (pglast) sees them, as the supabase CLI sends them one by one;
    the whole file as one statement when it cannot be parsed here (PostgreSQL then says what is wrong)."""
    try:
        from pglast import parser

        tree = json.loads(parser.parse_sql_json(text))
    except Exception:  # noqa: BLE001 - no pglast, or a parse error: PostgreSQL reports it on the whole file
        return [Statement(text, 1)]
    data = text.encode()
    statements = []
    for raw in tree.get("stmts", []):
        start = raw.get("stmt_location", 0)
        end = start + raw["stmt_len"] if raw.get("stmt_len") else len(data)
        chunk = data[start:end]
        lead = len(chunk) - len(chunk.lstrip())  # a statement's location includes the whitespace before it
        statements.append(Statement(chunk.decode().strip(), data.count(b"\n", 0, start + lead) + 1, raw.get("stmt")))
    return statements


_EVENT_TRIGGER_HELPER = "supautils.create_event_trigger(name, name, text[], regprocedure)"


def _as_run(conn: psycopg.Connection, statement: Statement) -> tuple[str, tuple | None]:
    """What to send for a statement: itself, or, for CREATE/DROP EVENT TRIGGER by a non-superuser where the local
    stack's supautils helpers exist, the call that does what supautils allows `postgres` on hosted."""
    tree = statement.tree or {}
    create, drop = tree.get("CreateEventTrigStmt"), tree.get("DropStmt")
    if not create and not (drop and drop.get("removeType") == "OBJECT_EVENT_TRIGGER"):
        return statement.sql, None
    if conn.info.parameter_status("is_superuser") == "on" or conn.execute(
            "select to_regprocedure(%s) is null", (_EVENT_TRIGGER_HELPER,)).fetchone()[0]:
        return statement.sql, None
    if drop:
        return "select supautils.drop_event_trigger(%s, %s)", (drop["objects"][0]["String"]["sval"],
                                                               bool(drop.get("missing_ok")))
    tags = [item["String"]["sval"] for clause in create.get("whenclause", [])
            for item in clause["DefElem"]["arg"]["List"]["items"]]
    handler = ".".join('"{}"'.format(part["String"]["sval"].replace('"', '""')) for part in create["funcname"])
    return ("select supautils.create_event_trigger(%s, %s, %s, %s::regprocedure)",
            (create["trigname"], create["eventname"], tags or None, handler + "()"))


def run_file(conn: psycopg.Connection, name: str, text: str | list[Statement]) -> None:
    """Run one file's statements in the caller's transaction; a failure names the file and the line."""
    for statement in split_statements(text) if isinstance(text, str) else text:
        try:
            conn.execute(*_as_run(conn, statement))
        except psycopg.Error as e:
            position = int(e.diag.statement_position) if e.diag and e.diag.statement_position else None
            line = statement.line + (statement.sql[:position - 1].count("\n") if position else 0)
            raise MigrationError(name, e, line) from e


def bootstrap(admin: psycopg.Connection) -> bool:
    """Create roles and the auth/storage/realtime/extensions schemas once, as hosted Supabase has them; returns True
    if it ran. `admin` is a superuser connection in autocommit mode."""
    exists = admin.execute("select to_regclass('supabase_migrations.schema_migrations') is not null").fetchone()[0]
    if exists:
        return False
    paths = sorted(p for p in bootstrap_dir().glob("*.sql") if p.name != DEMOTE_FILE)
    with admin.transaction():
        admin.execute("""
            do $$ begin
              if not exists (select from pg_roles where rolname = 'postgres') then
                create role postgres superuser login password 'postgres';
              end if;
            end $$;
            alter database postgres owner to postgres""")
        admin.execute("set session authorization postgres")
        for path in paths:
            run_file(admin, f"bootstrap {path.name}", path.read_text())
        admin.execute("reset session authorization")
        run_file(admin, f"bootstrap {DEMOTE_FILE}", (bootstrap_dir() / DEMOTE_FILE).read_text())
    return True


def applied_versions(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}


def pending(conn: psycopg.Connection, directory: Path | None = None) -> list[Migration]:
    done = applied_versions(conn)
    return [m for m in list_migrations(directory) if m.version not in done]


def warn_stderr(message: str) -> None:
    print(f"oncore: warning: {message}", file=sys.stderr)


def check_migration(migration: Migration, text: str, on_warning: Warn) -> None:
    """What hosted Supabase enforces that the local database cannot: WHERE-less writes in API-called functions."""
    from oncore_cli.local.safeupdate import unguarded_writes

    for finding in unguarded_writes(text):
        on_warning(finding.message(migration.path.name))


def apply_migration(conn: psycopg.Connection, migration: Migration, on_warning: Warn = warn_stderr) -> None:
    """One file in one transaction after `RESET ALL` with `lock_timeout`, recorded in schema_migrations."""
    text = migration.path.read_text()
    check_migration(migration, text, on_warning)
    conn.execute("reset all")
    conn.execute(f"set lock_timeout = '{LOCK_TIMEOUT}'")
    statements = split_statements(text)
    with conn.transaction():
        run_file(conn, migration.path.name, statements)
        conn.execute(
            "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)",
            (migration.version, migration.name, [s.sql for s in statements]),
        )


def migrate(conn: psycopg.Connection, directory: Path | None = None, on_warning: Warn = warn_stderr
            ) -> list[Migration]:
    """Apply pending migrations over `conn` (autocommit, connected as `postgres`); returns those applied."""
    applied = []
    for migration in pending(conn, directory):
        apply_migration(conn, migration, on_warning)
        applied.append(migration)
    if applied:
        conn.execute("notify pgrst, 'reload schema'")
    return applied


def seed(conn: psycopg.Connection, path: Path | None = None) -> bool:
    """Run supabase/seed.sql if present (as `supabase db reset` does)."""
    path = path or supabase_dir() / "seed.sql"
    if not path.is_file() or not path.read_text().strip():
        return False
    with conn.transaction():
        run_file(conn, path.name, path.read_text())
    return True


def setup_database(admin_conninfo: str, conninfo: str, directory: Path | None = None,
                   on_warning: Warn = warn_stderr) -> list[Migration]:
    """Bootstrap (as the superuser at `admin_conninfo`, if needed), then migrate as `postgres` at `conninfo`."""
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        bootstrap(admin)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return migrate(conn, directory, on_warning)
