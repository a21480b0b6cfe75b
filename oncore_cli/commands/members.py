"""members list|add|set-role|remove."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, OrgOpt, YesOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Members of an organization and their roles (owner, admin, member, viewer).")
MemberArg = Annotated[str, typer.Argument(metavar="MEMBER", help="E-mail, user id or unique id prefix.")]
RoleOpt = Annotated[str, typer.Option("--role", "-r", metavar="ROLE", help="owner, admin, member or viewer.")]


@dataclass
class MemberOptions:
    member: str | None = None  # e-mail (add) or e-mail / user id / prefix (set-role, remove)
    role: str | None = None
    org: str | None = None
    json: bool = False
    fmt: str | None = None
    yes: bool = False



def _columns():
    from oncore_cli.core.output import Column

    return [Column("email", "Email", flex=True), Column("role", "Role"), Column("user_id", "User")]


@app.command("list")
def list_(ctx: typer.Context, org: OrgOpt = None, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List the members of the organization.

    \b
    Examples:
      $ oncore members list
      $ oncore members list --org nlt --json
    """
    run_list(MemberOptions(org=org, json=json, fmt=fmt), get_app(ctx))


def run_list(opts: MemberOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    found = app_.org(opts.org)
    service = OrganizationService(app_.api)
    rows = [m.data() for m in service.members(found)]
    app_.output.with_format(opts.fmt, opts.json).rows(rows, _columns())
    pending = service.pending(found)
    if pending:  # invited, not members yet: said on stderr, so the list itself stays the members
        app_.output.message("Invited, not yet accepted: " + ", ".join(f"{i.email} ({i.role})" for i in pending))


@app.command("add")
def add(ctx: typer.Context, email: Annotated[str, typer.Argument(metavar="EMAIL", help="Their e-mail address.")],
        role: RoleOpt = "member", org: OrgOpt = None, json: JsonOpt = False,
        no_mail: Annotated[bool, typer.Option("--no-mail", help="Do not e-mail the invitation.")] = False) -> None:
    """Invite someone to the organization (admins and owners); they join with `oncore orgs accept`.

    The invitation waits until they sign in with that (confirmed) address and accept it; nobody is added unasked.
    They are e-mailed how to join (the project's send-email function) unless --no-mail is given.

    \b
    Examples:
      $ oncore members add pm@example.com --role admin
    """
    run_add(MemberOptions(email, role, org, json), get_app(ctx), mail=not no_mail)


def run_add(opts: MemberOptions, app_: App, mail: bool = True) -> None:
    from oncore_cli.core.errors import OncoreError
    from oncore_cli.core.output import Column
    from oncore_cli.services.orgs import OrganizationService, check_role

    check_role(opts.role)
    found = app_.org(opts.org)
    service = OrganizationService(app_.api)
    invitation = service.add_member(found, opts.member, opts.role)
    if mail:
        try:
            service.mail_invitation(found, invitation.email)
            app_.output.message(f"Mailed the invitation to {invitation.email}.")
        except OncoreError as e:  # the invitation stands; only the mail is missing
            app_.output.message(f"The invitation mail was not sent ({e}); tell them yourself.")
    app_.output.message(f"Invited {invitation.email} to {found.slug} as {invitation.role}; they join with "
                        f"`oncore orgs accept {found.slug}` (no account yet? `oncore signup --email {invitation.email}` "
                        f"first).")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        columns = [Column("email", "Email"), Column("role", "Role"), Column("org_slug", "Organization")]
        app_.output.with_format(None, True).item(invitation.data(), columns)


@app.command("set-role")
def set_role(ctx: typer.Context, member: MemberArg, role: RoleOpt, org: OrgOpt = None) -> None:
    """Change a member's role (admins; only owners grant or take away owner).

    \b
    Examples:
      $ oncore members set-role pm@example.com --role viewer
    """
    run_set_role(MemberOptions(member, role, org), get_app(ctx))


def run_set_role(opts: MemberOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService, check_role

    check_role(opts.role)
    found = app_.org(opts.org)
    changed = OrganizationService(app_.api).set_role(found, opts.member, opts.role)
    app_.output.message(f"{changed.email} is now {changed.role} in {found.slug}.")
    app_.output.result(changed.data(), _columns())


@app.command("remove")
def remove(ctx: typer.Context, member: MemberArg, org: OrgOpt = None, yes: YesOpt = False) -> None:
    """Remove a member from the organization.

    \b
    Examples:
      $ oncore members remove pm@example.com --yes
    """
    run_remove(MemberOptions(member, org=org, yes=yes), get_app(ctx))


def run_remove(opts: MemberOptions, app_: App) -> None:
    from oncore_cli.services.orgs import OrganizationService

    found = app_.org(opts.org)
    service = OrganizationService(app_.api)
    target = service.member(found, opts.member)
    app_.confirm(f"Remove {target.email} from {found.slug}?", yes=opts.yes)
    service.remove_member(found, target.user_id)
    app_.output.message(f"Removed {target.email} from {found.slug}.")
    app_.output.result(target.data(), _columns())
