"""members list|add|set-role|remove."""

from __future__ import annotations

from typing import Annotated

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, OrgOpt, YesOpt, noun
from oncore_cli.core.context import get_app

app = noun("Members of an organization and their roles (owner, admin, member, viewer).")
MemberArg = Annotated[str, typer.Argument(metavar="MEMBER", help="E-mail, user id or unique id prefix.")]
RoleOpt = Annotated[str, typer.Option("--role", "-r", metavar="ROLE", help="owner, admin, member or viewer.")]


def _columns():
    from oncore_cli.core.output import Column

    return [Column("email", "Email"), Column("role", "Role"), Column("user_id", "User")]


@app.command("list")
def list_(ctx: typer.Context, org: OrgOpt = None, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List the members of the organization.

    \b
    Examples:
      $ oncore members list
      $ oncore members list --org nlt --json
    """
    from oncore_cli.services.orgs import OrganizationService

    app_ = get_app(ctx)
    found = app_.org(org)
    rows = [m.data() for m in OrganizationService(app_.api).members(found)]
    app_.output.with_format(fmt, json).rows(rows, _columns())


@app.command("add")
def add(ctx: typer.Context, email: Annotated[str, typer.Argument(metavar="EMAIL", help="E-mail of an existing account.")],
        role: RoleOpt = "member", org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Add someone with an account to the organization (admins and owners).

    \b
    Examples:
      $ oncore members add pm@example.com --role admin
    """
    from oncore_cli.services.orgs import OrganizationService, check_role

    check_role(role)
    app_ = get_app(ctx)
    found = app_.org(org)
    member = OrganizationService(app_.api).add_member(found, email, role)
    app_.output.message(f"Added {member.email} to {found.slug} as {member.role}.")
    if json:
        app_.output.with_format(None, True).item(member.data(), _columns())


@app.command("set-role")
def set_role(ctx: typer.Context, member: MemberArg, role: RoleOpt, org: OrgOpt = None) -> None:
    """Change a member's role (admins; only owners grant or take away owner).

    \b
    Examples:
      $ oncore members set-role pm@example.com --role viewer
    """
    from oncore_cli.services.orgs import OrganizationService, check_role

    check_role(role)
    app_ = get_app(ctx)
    found = app_.org(org)
    changed = OrganizationService(app_.api).set_role(found, member, role)
    app_.output.message(f"{changed.email} is now {changed.role} in {found.slug}.")


@app.command("remove")
def remove(ctx: typer.Context, member: MemberArg, org: OrgOpt = None, yes: YesOpt = False) -> None:
    """Remove a member from the organization.

    \b
    Examples:
      $ oncore members remove pm@example.com --yes
    """
    from oncore_cli.services.orgs import OrganizationService

    app_ = get_app(ctx)
    found = app_.org(org)
    service = OrganizationService(app_.api)
    target = service.member(found, member)
    app_.confirm(f"Remove {target.email} from {found.slug}?", yes=yes)
    service.remove_member(found, target.user_id)
    app_.output.message(f"Removed {target.email} from {found.slug}.")
