"""profiles list|use|show|remove: named servers (URL, anon key, default org) in $ONCORE_HOME/config.toml."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, YesOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Named connections: server URL, anon key and default organization. A profile is created by logging "
           "in with it: oncore --profile NAME login (or oncore login --profile NAME).")
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name.")]


def mask(secret: str | None) -> str | None:
    """Enough of a key to recognise it, never enough to use it."""
    if not secret:
        return None
    return secret[:6] + "…" + secret[-4:] if len(secret) > 16 else "…"


def _record(app: App, name: str) -> dict:
    profile = app.config.profiles[name]
    return {"name": name, "current": name == app.settings.profile, "url": profile.url,
            "anon_key": mask(profile.anon_key), "org": profile.org}


def _columns():
    from oncore_cli.core.output import Column

    return [Column("name", "Name"), Column("url", "URL", flex=True), Column("org", "Org", flex=True, drop=1)]


@app.command("list")
def list_(ctx: typer.Context, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List profiles; the current one is marked.

    \b
    Examples:
      $ oncore profiles list
      $ oncore profiles list --json
    """
    app_ = get_app(ctx)
    run_list(app_.output.with_format(fmt, json), app_)


def run_list(out, app_: App) -> None:
    from oncore_cli.core.output import Column

    rows = [_record(app_, name) for name in sorted(app_.config.profiles)]
    out.rows(rows, [Column("current", "", lambda r: "*" if r["current"] else ""), *_columns()],
             empty="no profiles yet: run oncore login")


@app.command("use")
def use(ctx: typer.Context, name: NameArg) -> None:
    """Make NAME the current profile.

    \b
    Examples:
      $ oncore profiles use staging
    """
    run_use(name, get_app(ctx))


def _known(app_: App, name: str) -> None:
    from oncore_cli.core.errors import NotFoundError

    if name not in app_.config.profiles:
        raise NotFoundError(f"profile {name!r} not found: see oncore profiles list")


def run_use(name: str, app_: App) -> None:
    _known(app_, name)
    app_.config.current = name
    app_.save_config()
    app_.output.message(f"Using profile {name}.")
    app_.output.result(_record(app_, name), _columns())


@app.command("show")
def show(ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="[NAME]", help="Profile (default: current).")] = "",
         json: JsonOpt = False) -> None:
    """Show a profile's settings, keys masked.

    \b
    Examples:
      $ oncore profiles show
      $ oncore profiles show staging --json
    """
    app_ = get_app(ctx)
    run_show(name or app_.settings.profile, app_.output.with_format(None, json), app_)


def run_show(name: str, out, app_: App) -> None:
    from oncore_cli.core.output import Column

    _known(app_, name)
    record = _record(app_, name)
    session = app_.credentials.get(name)
    record["logged_in_as"] = session.email if session else None
    out.item(record, [
        Column("name", "Name"), Column("url", "URL"), Column("anon_key", "Anon key"), Column("org", "Org"),
        Column("logged_in_as", "Logged in as"), Column("current", "Current")])


@app.command("remove")
def remove(ctx: typer.Context, name: NameArg, yes: YesOpt = False) -> None:
    """Remove a profile and its stored tokens.

    \b
    Examples:
      $ oncore profiles remove staging --yes
    """
    run_remove(name, yes, get_app(ctx))


def run_remove(name: str, yes: bool, app_: App) -> None:
    _known(app_, name)
    removed = _record(app_, name)
    app_.confirm(f"Remove profile {name} and its tokens?", yes=yes)
    app_.credentials.delete(name)
    del app_.config.profiles[name]
    if app_.config.current == name:
        app_.config.current = None
    app_.save_config()
    app_.output.message(f"Removed profile {name}.")
    app_.output.result(removed, _columns())
