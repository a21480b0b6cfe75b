"""Apply the Supabase bootstrap SQL, then supabase/migrations in order, recorded as the supabase CLI records them.

The one migration runner: `oncore local start|reset`, the test fixtures and `oncore db push` use these functions,
each with a psycopg connection (or a URL) of their own. As on hosted Supabase, the bootstrap runs as the superuser
and every migration as the demoted `postgres`, each file in one transaction after `RESET ALL` with
`lock_timeout = '4s'` (what `supabase db push` does), so a migration hosted Supabase would refuse fails here too.

The history is the supabase CLI's: `supabase_migrations.schema_migrations (version, statements text[], name)`,
created with the CLI's own statements, each migration's `statements` split as the CLI splits them (pkg/parser:
cli_statements), so `supabase migration list` / `supabase db push` and oncore take turns on one database. A
migration whose file no longer matches what was applied is reported as changed, and nothing more is applied until
that is resolved (MigrationDrift).
"""

from __future__ import annotations

import json
import re
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

    def matches(self, recorded: list[str] | None) -> bool:
        """True if the file is what was applied, whichever tool split it (the supabase CLI, PostgreSQL's parser, or
        the whole file as one): their text without comments, white space and `;` is the file's."""
        if recorded is None:
            return True  # recorded without statements (supabase migration repair): nothing to compare
        return _squash("".join(recorded)) == _squash(self.path.read_text())


def _squash(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/|[\s;]+", "", sql, flags=re.S)


_MIGRATION_FILE = re.compile(r"^([0-9]+)_(.*)\.sql$")  # the supabase CLI's pattern: other files are skipped


def list_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or supabase_dir() / "migrations"
    found = (Migration.from_path(p) for p in directory.glob("*.sql") if _MIGRATION_FILE.match(p.name))
    return sorted(found, key=lambda m: m.version)


def cli_statements(sql: str) -> list[str]:
    """The statements of a SQL file exactly as the supabase CLI splits them (pkg/parser SplitAndTrim): at each `;`
    outside quotes, dollar quotes, comments and BEGIN ATOMIC bodies, each trimmed of `;` then of white space,
    empty ones dropped."""
    out: list[str] = []
    start = 0
    state = _Ready()
    i, n = 0, len(sql)
    while i < n:
        state = state.next(sql, start, i + 1)
        i += 1
        if state is None:  # a separator: emit the token
            _emit(out, sql[start:i])
            start, state = i, _Ready()
    if start < n:
        _emit(out, sql[start:])
    return out


def _emit(out: list[str], token: str) -> None:
    token = token.rstrip(";").strip()
    if token:
        out.append(token)


# The CLI's tokenizer states (pkg/parser/state.go). `next(text, start, end)` sees the current token text[start:end],
# whose last character is the one just read; returning None emits the token.
class _Ready:
    def next(self, text, start, end):
        r = text[end - 1]
        if r == "$":
            return _Tag(end - 1)
        if r in "'\"":
            return _Quote(r)
        if r == "-":
            return _Comment()
        if r == "/":
            return _Block()
        if r == "\\":
            return _Escape()
        if r == ";":
            return None
        if r == "(":
            return _Atomic(self, ")")
        if r in "cC" and _begin_atomic(text, start, end):
            return _Atomic(self, "END")
        return self


def _ident(ch: str) -> bool:
    return ch.isalpha() or ch.isdigit() or ch in "_$"


def _begin_atomic(text, start, end) -> bool:
    offset = end - 6
    if offset < start or text[offset:end].upper() != "ATOMIC":
        return False
    if offset > start and _ident(text[offset - 1]):
        return False
    prefix = text[start:offset].rstrip()
    if len(prefix) < 5 or prefix[-5:].upper() != "BEGIN":
        return False
    return len(prefix) == 5 or not _ident(prefix[-6])


class _Comment:
    def next(self, text, start, end):
        if text[end - 1] == "-":
            return _Dollar("\n")
        return _Ready().next(text, start, end)


class _Block:
    def __init__(self):
        self.depth = 0

    def next(self, text, start, end):
        window = text[max(start, end - 2):end]
        if window == "/*":
            self.depth += 1
            return self
        if self.depth == 0:
            return _Ready().next(text, start, end)
        if window == "*/":
            self.depth -= 1
            if self.depth == 0:
                return _Ready()
        return self


class _Quote:
    def __init__(self, delimiter):
        self.delimiter = delimiter
        self.escape = False

    def next(self, text, start, end):
        r = text[end - 1]
        if self.escape:
            if r == self.delimiter:
                self.escape = False
                return self
            return _Ready().next(text, start, end)
        if r == self.delimiter:
            self.escape = True
        return self


class _Dollar:
    def __init__(self, delimiter):
        self.delimiter = delimiter

    def next(self, text, start, end):
        if text[max(start, end - len(self.delimiter)):end] == self.delimiter:
            return _Ready()
        return self


class _Tag:
    def __init__(self, offset):
        self.offset = offset

    def next(self, text, start, end):
        r = text[end - 1]
        if r == "$":
            return _Dollar(text[self.offset:end])
        if r.isalpha() or r.isdigit() or r == "_":
            return self
        return _Ready().next(text, start, end)


class _Escape:
    def next(self, text, start, end):
        return _Ready()


class _Atomic:
    def __init__(self, prev, delimiter):
        self.prev = prev
        self.delimiter = delimiter

    def next(self, text, start, end):
        current = self.prev.next(text, start, end)
        if current is not None:
            self.prev = current
        if isinstance(self.prev, _Ready):
            if text[max(start, end - len(self.delimiter)):end].upper() == self.delimiter.upper():
                return _Ready()
        return self


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


class MigrationDrift(RuntimeError):
    """The database's history and the migration files disagree (a changed file, or a version with no file)."""


# The supabase CLI's own statements (pkg/migration/history.go), so either tool may create the table first.
HISTORY_TABLE = (
    "SET lock_timeout = '4s'",
    "CREATE SCHEMA IF NOT EXISTS supabase_migrations",
    "CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY)",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[]",
    "ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text",
)


def has_supabase_base(conn: psycopg.Connection) -> bool:
    """True if the database has what hosted Supabase provides (auth.users, the API roles)."""
    return conn.execute("select to_regclass('auth.users') is not null "
                        "and exists (select from pg_roles where rolname = 'authenticated')").fetchone()[0]


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
    return set(history(conn))


def ensure_history(conn: psycopg.Connection) -> None:
    with conn.transaction():
        for statement in HISTORY_TABLE:
            conn.execute(statement)
        conn.execute("RESET lock_timeout")


def history(conn: psycopg.Connection) -> dict[str, tuple[str, list[str] | None]]:
    """{version: (name, statements)} as recorded; empty when the table does not exist yet."""
    if not conn.execute("select to_regclass('supabase_migrations.schema_migrations') is not null").fetchone()[0]:
        return {}
    columns = {row[0] for row in conn.execute(
        "select attname from pg_attribute where attrelid = 'supabase_migrations.schema_migrations'::regclass "
        "and attnum > 0 and not attisdropped")}
    name = "coalesce(name, '')" if "name" in columns else "''"
    statements = "statements" if "statements" in columns else "null::text[]"
    rows = conn.execute(f"select version, {name}, {statements} from supabase_migrations.schema_migrations")
    return {version: (label, stmts) for version, label, stmts in rows}


@dataclass(frozen=True)
class MigrationState:
    version: str
    name: str
    state: str  # applied | pending | changed (file differs from what was applied) | missing (no file)
    migration: Migration | None


def status(conn: psycopg.Connection, directory: Path | None = None) -> list[MigrationState]:
    """Every migration, local or recorded, in version order, with its state."""
    recorded = history(conn)
    states = []
    local = {m.version: m for m in list_migrations(directory)}
    for version in sorted(set(local) | set(recorded)):
        migration = local.get(version)
        if migration is None:
            states.append(MigrationState(version, recorded[version][0], "missing", None))
        elif version not in recorded:
            states.append(MigrationState(version, migration.name, "pending", migration))
        else:
            state = "applied" if migration.matches(recorded[version][1]) else "changed"
            states.append(MigrationState(version, migration.name, state, migration))
    return states


def check_drift(states: list[MigrationState]) -> None:
    changed = [s for s in states if s.state == "changed"]
    missing = [s for s in states if s.state == "missing"]
    if changed:
        names = ", ".join(f"{s.version}_{s.name}.sql" for s in changed)
        raise MigrationDrift(f"applied migration{'s' if len(changed) > 1 else ''} changed since: {names}; "
                             "restore the applied version and put the change in a new migration")
    if missing:
        versions = ", ".join(s.version for s in missing)
        raise MigrationDrift(f"the database has migrations that are not in the migrations folder: {versions}; "
                             "update your checkout (or repair the history with supabase migration repair)")


def pending(conn: psycopg.Connection, directory: Path | None = None,
            include_all: bool = True) -> list[Migration]:
    """The migrations to apply, in version order; MigrationDrift when applied ones no longer match their files, or
    (unless `include_all`, as `supabase db push` has it) when one would go in before the last applied one."""
    states = status(conn, directory)
    check_drift(states)
    todo = [s.migration for s in states if s.state == "pending"]
    last = max((s.version for s in states if s.state == "applied"), default="")
    early = [m for m in todo if m.version < last]
    if early and not include_all:
        names = ", ".join(m.path.name for m in early)
        raise MigrationDrift(f"migration{'s' if len(early) > 1 else ''} older than the last one applied ({last}): "
                             f"{names}; rerun with --include-all to apply {'them' if len(early) > 1 else 'it'}")
    return todo


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
            (migration.version, migration.name, cli_statements(text)),
        )


def migrate(conn: psycopg.Connection, directory: Path | None = None, on_warning: Warn = warn_stderr,
            dry_run: bool = False, on_apply: Callable[[Migration], None] | None = None,
            include_all: bool = True) -> list[Migration]:
    """Apply pending migrations over `conn` (autocommit, connected as `postgres`); returns those applied (with
    dry_run, those that would be). Refuses (MigrationDrift) when an applied migration's file has changed, an
    applied version has no file, or (without `include_all`) a pending one is older than the last applied."""
    todo = pending(conn, directory, include_all)
    if dry_run or not todo:
        return todo
    ensure_history(conn)
    applied = []
    for migration in todo:
        if on_apply:
            on_apply(migration)
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
