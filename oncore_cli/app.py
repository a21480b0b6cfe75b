"""The root `oncore` command. It registers noun groups and imports nothing heavy: each command module imports
typer and the standard library only, and loads supabase, rich tables, reportlab or the local stack inside verbs."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from oncore_cli.core.cli import lazy_root

# name → (module, attribute, one-line help). Modules load only when their command runs; the help lines show in
# `oncore --help` without importing anything.
COMMANDS = {
    "signup": ("oncore_cli.commands.auth", "signup", "Create an account (e-mail and password) and log in."),
    "login": ("oncore_cli.commands.auth", "login", "Log in; the session goes to the system keyring."),
    "logout": ("oncore_cli.commands.auth", "logout", "Log out and forget the session's tokens."),
    "whoami": ("oncore_cli.commands.auth", "whoami", "Show who you are logged in as, and where."),
    "auth": ("oncore_cli.commands.auth", "app", "Access token for scripts (auth token)."),
    "profiles": ("oncore_cli.commands.profiles", "app", "Named connections: URL, anon key, default org."),
    "orgs": ("oncore_cli.commands.orgs", "app", "Organizations: list, create, show, use, rename, delete; invitations."),
    "members": ("oncore_cli.commands.members", "app", "Members of an organization and their roles."),
    "venues": ("oncore_cli.commands.venues", "app", "Venues: list, create, show, update, delete."),
    "shows": ("oncore_cli.commands.shows", "app", "Shows: list, create, show, update, delete, export."),
    "advancing": ("oncore_cli.commands.advancing", "app", "Advancing: sessions, access codes, sections, PDFs."),
    "adv": ("oncore_cli.commands.advancing", "app", "Alias of advancing."),
    "import": ("oncore_cli.commands.imports", "app", "Import shows or venues from CSV, JSON or NDJSON."),
    "db": ("oncore_cli.commands.db", "app", "Migrations: push, status (takes turns with the supabase CLI)."),
    "seed": ("oncore_cli.commands.seed", "seed", "Load a CI fixture (YAML/JSON) with the service-role key."),
    "tail": ("oncore_cli.commands.tail", "tail", "Follow changes as they land (reconnects, catches up)."),
    "local": ("oncore_cli.commands.local", "app", "The local stack: start, stop, status, reset, logs, mail, secrets."),
    "api": ("oncore_cli.commands.api", "api", "Make an authenticated request to the project's APIs."),
    "completion": ("oncore_cli.commands.completion", "completion", "Print a shell completion script."),
}

app = typer.Typer(
    name="oncore",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,  # plain help: rendering it with rich doubles the start-up time of `oncore --help`
    cls=lazy_root(COMMANDS),
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    """The version, the Python that runs oncore (which install this is) and where the local stack keeps its data."""
    if value:
        import sys

        from oncore_cli import __version__
        from oncore_cli.core.config import local_data_dir

        typer.echo(f"oncore {__version__}\nPython {sys.version.split()[0]} ({sys.executable})\n"
                   f"local stack data: {local_data_dir()}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    profile: Annotated[Optional[str], typer.Option(
        "--profile", "-p", metavar="NAME", help="Profile to use (env: ONCORE_PROFILE).")] = None,
    json: Annotated[bool, typer.Option("--json", help="Machine output (JSON) on stdout; messages on stderr.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Assume yes for confirmations.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or confirmation messages.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version, its Python and where the local stack keeps its data.")] = False,
) -> None:
    """Administration and advancing for concert touring.

    \b
    Environment: ONCORE_HOME, ONCORE_PROFILE, ONCORE_URL, ONCORE_ANON_KEY, ONCORE_ACCESS_TOKEN,
      ONCORE_SERVICE_ROLE_KEY (CI seeding only), ONCORE_ORG, ONCORE_DB_URL, ONCORE_DEBUG, ONCORE_KEYRING_TIMEOUT, NO_COLOR.
    Exit codes: 0 ok, 1 error, 2 bad input, 3 not found, 4 not logged in or forbidden, 5 conflict.

    \b
    Examples:
      $ oncore local start && oncore login --local
      $ oncore shows list --from today
      $ oncore shows export --format ics -O tour.ics
    """
    from oncore_cli.core.context import App

    ctx.obj = App(profile=profile, fmt="json" if json else None, yes=yes, quiet=quiet)


def run() -> None:
    app(prog_name="oncore")
