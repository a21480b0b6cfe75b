"""Apply the Supabase bootstrap SQL, then supabase/migrations in order, recorded as the supabase CLI records them."""

from __future__ import annotations

from dataclasses import dataclass
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


def list_migrations(directory: Path | None = None) -> list[Migration]:
    directory = directory or supabase_dir() / "migrations"
    return sorted((Migration.from_path(p) for p in directory.glob("*.sql")), key=lambda m: m.version)


class MigrationError(RuntimeError):
    def __init__(self, migration: str, error: psycopg.Error) -> None:
        diag = error.diag
        where = f" ({diag.context.strip().splitlines()[-1]})" if diag and diag.context else ""
        super().__init__(f"{migration}: {diag.message_primary if diag else error}{where}")


def bootstrap(conn: psycopg.Connection) -> bool:
    """Create roles and the auth/storage/realtime/extensions schemas once; returns True if it ran."""
    exists = conn.execute("select to_regclass('supabase_migrations.schema_migrations') is not null").fetchone()[0]
    if exists:
        return False
    with conn.transaction():
        for path in sorted(bootstrap_dir().glob("*.sql")):
            try:
                conn.execute(path.read_text())
            except psycopg.Error as e:
                raise MigrationError(f"bootstrap {path.name}", e) from e
    return True


def applied_versions(conn: psycopg.Connection) -> set[str]:
    return {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}


def migrate(conn: psycopg.Connection, directory: Path | None = None) -> list[Migration]:
    """Apply pending migrations, each in its own transaction; returns those applied."""
    done = applied_versions(conn)
    applied = []
    for migration in list_migrations(directory):
        if migration.version in done:
            continue
        sql = migration.path.read_text()
        with conn.transaction():
            try:
                conn.execute(sql)
            except psycopg.Error as e:
                raise MigrationError(migration.path.name, e) from e
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, name, statements) values (%s, %s, %s)",
                (migration.version, migration.name, [sql]),
            )
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
