"""The root `oncore` command. It registers noun groups and imports nothing heavy: each command module imports
typer and the standard library only, and loads supabase, rich tables, reportlab or the local stack inside verbs."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="oncore",
    help="Administration and advancing for concert touring.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)


def _register() -> None:
    from oncore_cli.commands import local

    app.add_typer(local.app, name="local")


_register()


def run() -> None:
    app()
