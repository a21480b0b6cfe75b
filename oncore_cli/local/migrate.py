"""Apply the Supabase bootstrap SQL, then supabase/migrations in order, recorded as the supabase CLI records them.

One migration runner for `oncore local start` and `oncore db push|status`. The history is the supabase CLI's:
`supabase_migrations.schema_migrations (version, statements text[], name)`, created with the CLI's statements, and
each migration's `statements` split as the CLI splits them (pkg/parser), so `supabase migration list` and
`supabase db push` see what oncore applied and the other way round. A migration whose file no longer matches what
was applied is reported as changed, and nothing more is applied until that is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psycopg

from oncore_cli.local.paths import bootstrap_dir, supabase_dir


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @classmethod
    def from_path(cls, path: Path) -> "Migration":
        version, _, name = path.stem.partition("_")
        return cls(version, name, path)

    @cached_property
    def sql(self) -> str:
        return self.path.read_text()

    @cached_property
    def statements(self) -> list[str]:
        return split_statements(self.sql)

    def matches(self, recorded: list[str] | None) -> bool:
        """True if the file is what was applied (the CLI's statements, or the whole file as one, as older
        oncore versions recorded it)."""
        if recorded is None:
            return True  # recorded without statements (supabase migration repair): nothing to compare
        if recorded == self.statements:
            return True
        return len(recorded) == 1 and split_statements(recorded[0]) == self.statements


_MIGRATION_FILE = __import__("re").compile(r"^([0-9]+)_(.*)\.sql$")


def list_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or supabase_dir() / "migrations"
    found = (Migration.from_path(p) for p in directory.glob("*.sql") if _MIGRATION_FILE.match(p.name))
    return sorted(found, key=lambda m: m.version)


def split_statements(sql: str) -> list[str]:
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
    def __init__(self, migration: str, error: psycopg.Error) -> None:
        diag = error.diag
        where = f" ({diag.context.strip().splitlines()[-1]})" if diag and diag.context else ""
        super().__init__(f"{migration}: {diag.message_primary if diag else error}{where}")


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


def bootstrap(conn: psycopg.Connection) -> bool:
    """Create roles and the auth/storage/realtime/extensions schemas once; returns True if it ran."""
    if has_supabase_base(conn):
        return False
    with conn.transaction():
        for path in sorted(bootstrap_dir().glob("*.sql")):
            try:
                conn.execute(path.read_text())
            except psycopg.Error as e:
                raise MigrationError(f"bootstrap {path.name}", e) from e
    return True


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


def applied_versions(conn: psycopg.Connection) -> set[str]:
    return set(history(conn))


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


def migrate(conn: psycopg.Connection, directory: Path | None = None, dry_run: bool = False,
            on_apply=None) -> list[Migration]:
    """Apply pending migrations in version order, each in its own transaction, recorded as the supabase CLI
    records them; returns those applied (or, with dry_run, those that would be). Refuses (MigrationDrift) when an
    applied migration's file has changed or an applied version has no file."""
    states = status(conn, directory)
    check_drift(states)
    pending = [s.migration for s in states if s.state == "pending"]
    if dry_run or not pending:
        return pending
    ensure_history(conn)
    for migration in pending:
        if on_apply:
            on_apply(migration)
        with conn.transaction():
            try:
                conn.execute(migration.sql)
            except psycopg.Error as e:
                raise MigrationError(migration.path.name, e) from e
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)",
                (migration.version, migration.name, migration.statements),
            )
    conn.execute("notify pgrst, 'reload schema'")
    return pending


def seed(conn: psycopg.Connection, path: Path | None = None) -> bool:
    """Run supabase/seed.sql if present (as `supabase db reset` does)."""
    path = path or supabase_dir() / "seed.sql"
    if not path.is_file() or not path.read_text().strip():
        return False
    with conn.transaction():
        try:
            conn.execute(path.read_text())
        except psycopg.Error as e:
            raise MigrationError(path.name, e) from e
    return True


def setup_database(conninfo: str, directory: Path | None = None) -> list[Migration]:
    """Bootstrap (if needed) and migrate the database at `conninfo` as its superuser."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        bootstrap(conn)
        return migrate(conn, directory)
