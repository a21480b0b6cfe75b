"""orgs list|create|show|use|rename|delete|invitations|accept."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, YesOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Organizations: the touring parties you work for.")
OrgArg = Annotated[str, typer.Argument(metavar="ORG", help="Slug, name, id or unique id prefix.")]


@dataclass
class OrgOptions:
    org: str | None = None     # the organization acted on (slug, name, id or prefix)
    name: str | None = None    # create / rename
    slug: str | None = None    # create / rename
    use: bool = True           # create: make it the default
    json: bool = False
    fmt: str | None = None
    yes: bool = False


def _columns():
    from oncore_cli.core.output import Column

    return [Column("slug", "Slug"), Column("name", "Name", flex=True, drop=1), Column("id", "Id")]


@app.command("list")
def list_(ctx: typer.Context, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List the organizations you belong to; the default one is marked.

    \b
    Examples:
      $ oncore orgs list
      $ oncore orgs list --format csv > orgs.csv
    """
    run_list(OrgOptions(json=json, fmt=fmt), get_app(ctx))


def run_list(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.core.output import Column
    from oncore_cli.services.orgs import OrganizationService

    out = app_.output.with_format(opts.fmt, opts.json)
    default = app_.settings.org
    rows = [o.data() | {"default": default in (o.slug, o.id)} for o in OrganizationService(app_.api).list()]
    columns = [Column("default", "", lambda r: "*" if r["default"] else ""), *_columns()]
    out.rows(rows, columns if out.format == "table" else _columns(), empty="no organizations: run oncore orgs create NAME")


@app.command("create")
def create(ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="NAME", help="Display name.")],
           slug: Annotated[Optional[str], typer.Option("--slug", metavar="SLUG", help="URL-safe id (default: from the name).")] = None,
           use: Annotated[bool, typer.Option("--use/--no-use", help="Make it the profile's default.")] = True,
           json: JsonOpt = False) -> None:
    """Create an organization; you become its owner.

    \b
    Examples:
      $ oncore orgs create "Northern Lights Touring"
      $ oncore orgs create "Northern Lights" --slug nlt --json
    """
    run_create(OrgOptions(name=name, slug=slug, use=use, json=json), get_app(ctx))


def run_create(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    org = OrganizationService(app_.api).create(opts.name, opts.slug)
    if opts.use:
        _set_default(app_, org.slug)
    app_.output.message(f"Created organization {org.name} ({org.slug})" + (", now the default." if opts.use else "."))
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(org.data(), _columns())


@app.command("show")
def show(ctx: typer.Context, org: Annotated[Optional[str], typer.Argument(metavar="[ORG]", help="Default: the current.")] = None,
         json: JsonOpt = False) -> None:
    """Show one organization, with its plan and the plan's status (owners only; Stripe keeps them current).

    \b
    Examples:
      $ oncore orgs show nlt --json
    """
    run_show(OrgOptions(org=org, json=json), get_app(ctx))


def run_show(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.core.output import Column
    from oncore_cli.services.orgs import OrganizationService

    org = app_.org(opts.org)
    subscription = OrganizationService(app_.api).subscription(org) or {}
    record = {**org.data(), "plan": subscription.get("plan"), "plan_status": subscription.get("status"),
              "plan_renews_at": subscription.get("current_period_end")}
    app_.output.with_format(None, opts.json).item(record, [
        *_columns(), Column("created_at", "Created"), Column("plan", "Plan"), Column("plan_status", "Plan status"),
        Column("plan_renews_at", "Renews")])


@app.command("use")
def use(ctx: typer.Context, org: OrgArg) -> None:
    """Make ORG the default organization of the current profile.

    \b
    Examples:
      $ oncore orgs use nlt
    """
    run_use(OrgOptions(org=org), get_app(ctx))


def run_use(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    found = OrganizationService(app_.api).get(opts.org)
    _set_default(app_, found.slug)
    app_.output.message(f"Default organization: {found.name} ({found.slug}).")
    app_.output.result(found.data(), _columns())


def _set_default(app_, slug: str) -> None:
    from oncore_cli.core.config import Profile

    name = app_.settings.profile
    profile = app_.config.profiles.get(name) or Profile(name, url=app_.settings.url, anon_key=app_.settings.anon_key)
    profile.org = slug
    app_.config.profiles[name] = profile
    app_.save_config()


@app.command("rename")
def rename(ctx: typer.Context, org: OrgArg, name: Annotated[str, typer.Argument(metavar="NAME", help="New display name.")],
           slug: Annotated[Optional[str], typer.Option("--slug", metavar="SLUG", help="New slug as well.")] = None,
           json: JsonOpt = False) -> None:
    """Rename an organization (admins and owners).

    \b
    Examples:
      $ oncore orgs rename nlt "Northern Lights Live" --slug nll
    """
    run_rename(OrgOptions(org=org, name=name, slug=slug, json=json), get_app(ctx))


def run_rename(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    old = OrganizationService(app_.api).get(opts.org)
    renamed = OrganizationService(app_.api).rename(old.id, opts.name, opts.slug)
    if app_.settings.org in (old.slug, old.id) and renamed.slug != old.slug:
        _set_default(app_, renamed.slug)
    app_.output.message(f"Renamed {old.slug} to {renamed.name} ({renamed.slug}).")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(renamed.data(), _columns())


@app.command("delete")
def delete(ctx: typer.Context, org: OrgArg, yes: YesOpt = False) -> None:
    """Delete an organization with all its venues, shows and advances (owners only).

    \b
    Examples:
      $ oncore orgs delete nlt --yes
    """
    run_delete(OrgOptions(org=org, yes=yes), get_app(ctx))


def run_delete(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    service = OrganizationService(app_.api)
    found = service.get(opts.org)
    app_.confirm_typed(f"Delete {found.name} ({found.slug}) with all its venues, shows and advances?", found.slug,
                       yes=opts.yes)
    service.delete(found.id)
    profile = app_.config.profiles.get(app_.settings.profile)
    if profile and profile.org in (found.slug, found.id):
        profile.org = None
        app_.save_config()
    app_.output.message(f"Deleted {found.name} ({found.slug}).")
    app_.output.result(found.data(), _columns())


@app.command("invitations")
def invitations(ctx: typer.Context, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List your pending invitations to organizations.

    \b
    Examples:
      $ oncore orgs invitations
      $ oncore orgs accept nlt
    """
    run_invitations(OrgOptions(json=json, fmt=fmt), get_app(ctx))


def _invitation_columns():
    from oncore_cli.core.output import Column

    return [Column("org_slug", "Slug"), Column("org_name", "Name"), Column("role", "Role"),
            Column("invited_by", "Invited by"), Column("org_id", "Id")]


def run_invitations(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    rows = [i.data() for i in OrganizationService(app_.api).invitations()]
    app_.output.with_format(opts.fmt, opts.json).rows(rows, _invitation_columns(), empty="no pending invitations")


@app.command("accept")
def accept(ctx: typer.Context, org: OrgArg, json: JsonOpt = False) -> None:
    """Accept an invitation: join ORG with the role you were invited with.

    \b
    Examples:
      $ oncore orgs accept nlt
    """
    run_accept(OrgOptions(org=org, json=json), get_app(ctx))


def run_accept(opts: OrgOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    invitation, member = OrganizationService(app_.api).accept(opts.org)
    app_.output.message(f"Joined {invitation.org_name} ({invitation.org_slug}) as {member.role}; "
                        f"`oncore orgs use {invitation.org_slug}` makes it the default.")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(invitation.data() | {"role": member.role}, _invitation_columns())
