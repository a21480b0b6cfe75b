"""db push|status: the project's migrations on a database, recorded as the supabase CLI records them."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import JsonOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Database migrations: push them, see which are applied (takes turns with the supabase CLI).")

DbUrlOpt = Annotated[Optional[str], typer.Option(
    "--db-url", metavar="URL", envvar="ONCORE_DB_URL",
    help="PostgreSQL URL of the target database (default: the local stack's).")]
WorkdirOpt = Annotated[Optional[Path], typer.Option(
    "--workdir", metavar="DIR", help="Project directory holding supabase/migrations (default: oncore's own).")]


def _migrations_dir(workdir: Path | None) -> Path | None:
    if workdir is None:
        return None
    from oncore_cli.core.errors import UsageError

    directory = workdir / "supabase" / "migrations"
    if not directory.is_dir():
        raise UsageError(f"no supabase/migrations folder in {workdir}")
    return directory


def _target(app_: App, db_url: str | None) -> str:
    if db_url:
        return db_url
    from oncore_cli.core.errors import OncoreError
    from oncore_cli.local.stack import LocalStack

    stack = LocalStack(app_.home)
    if not stack.cluster.running_pid():
        raise OncoreError("the local stack is not running: start it with oncore local start, or pass --db-url URL")
    return stack.cluster.socket_conninfo()


@contextlib.contextmanager
def _connect(conninfo: str):
    """A connection (core/database.py), with the migration runner's refusals and failures as one line too."""
    from oncore_cli.core.database import connect
    from oncore_cli.core.errors import ConflictError, OncoreError
    from oncore_cli.local.migrate import MigrationDrift, MigrationError

    try:
        with connect(conninfo) as conn:
            yield conn
    except MigrationDrift as e:
        raise ConflictError(str(e)) from None
    except MigrationError as e:
        raise OncoreError(f"migration failed: {e}") from None


@app.command("push")
def push(ctx: typer.Context, db_url: DbUrlOpt = None,
         dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be applied; apply nothing.")] = False,
         include_all: Annotated[bool, typer.Option(
             "--include-all", help="Also apply migrations older than the last one applied.")] = False,
         workdir: WorkdirOpt = None, json: JsonOpt = False) -> None:
    """Apply pending migrations in order, each in its own transaction.

    Recorded in supabase_migrations.schema_migrations exactly as `supabase db push` records them, so the two tools
    can take turns on one database. Refuses (exit 5) when an applied migration's file has changed since, the
    database has a migration the folder lacks, or (as `supabase db push` does) a pending migration is older than
    the last one applied, unless --include-all. A database without Supabase's base schemas (a bare PostgreSQL)
    gets them first, as the local stack has them.

    \b
    Examples:
      $ oncore db push --dry-run
      $ oncore db push --db-url postgresql://postgres:postgres@127.0.0.1:5432/postgres
    """
    app_ = get_app(ctx)
    from oncore_cli.local import migrate

    out = app_.output
    with _connect(_target(app_, db_url)) as conn:
        bare = not migrate.has_supabase_base(conn)
        if bare and not dry_run:
            out.message("The database has no Supabase base schemas (auth, storage, API roles): applying them first.")
            migrate.bootstrap(conn)
            conn.execute("set session authorization postgres")  # migrations run as hosted runs them
        directory = _migrations_dir(workdir)
        applied = migrate.migrate(conn, directory, dry_run=dry_run, include_all=include_all,
                                  on_apply=lambda m: out.message(f"Applying migration {m.path.name}..."))
    names = [f"{m.version}_{m.name}.sql" for m in applied]
    if json or app_.fmt == "json":
        out.with_format(None, True).json({"dry_run": dry_run, "bootstrap": bare,
                                          "would_apply" if dry_run else "applied": names})
    elif dry_run:
        if bare:
            out.message("Would apply Supabase's base schemas first (a bare database).")
        out.message("Would apply:\n" + "\n".join(f"  {n}" for n in names) if names else "Nothing to apply: "
                    "the database is up to date.")
    else:
        out.message(f"Applied {len(names)} migration{'s' if len(names) != 1 else ''}." if names else
                    "Nothing to apply: the database is up to date.")


@app.command("status")
def status(ctx: typer.Context, db_url: DbUrlOpt = None, workdir: WorkdirOpt = None, json: JsonOpt = False) -> None:
    """List migrations: applied, pending, changed since applied, or applied but missing from the folder.

    \b
    Examples:
      $ oncore db status
      $ oncore db status --db-url "$SUPABASE_DB_URL" --json
    """
    app_ = get_app(ctx)
    from oncore_cli.core.output import Column
    from oncore_cli.local import migrate

    with _connect(_target(app_, db_url)) as conn:
        states = migrate.status(conn, _migrations_dir(workdir))
    rows = [{"version": s.version, "name": s.name, "state": s.state} for s in states]
    app_.output.with_format(None, json).rows(rows, [Column("version", "Version"), Column("name", "Name"),
                                                    Column("state", "State")], empty="no migrations")
