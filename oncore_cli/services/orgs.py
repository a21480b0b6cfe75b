"""OrganizationService: organizations and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from oncore_cli.core.errors import AuthError, UsageError
from oncore_cli.models.core import ROLES, Invitation, Member, Organization
from oncore_cli.services.lookup import is_uuid, pick, slugify

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

ORG_FIELDS = "id,name,slug,created_at"


class OrganizationService:
    def __init__(self, api: Api) -> None:
        self.api = api

    # -- organizations -----------------------------------------------------------------------------------
    def list(self) -> list[Organization]:
        rows = self.api.select("organizations", {"select": ORG_FIELDS, "order": "name.asc,slug.asc"})
        return [Organization.model_validate(r) for r in rows]

    def get(self, ref: str) -> Organization:
        if is_uuid(ref):
            rows = self.api.select("organizations", {"select": ORG_FIELDS, "id": f"eq.{ref}"})
        else:
            rows = self.api.select("organizations", {"select": ORG_FIELDS})
        return Organization.model_validate(pick(rows, ref, noun="organization", list_hint="oncore orgs list"))

    def subscription(self, org: Organization) -> dict | None:
        """The organization's Stripe subscription (plan, status, current_period_end), as the webhook recorded it;
        None when there is none or the caller is not an owner (only owners read billing)."""
        rows = self.api.select("subscriptions", {"select": "plan,status,current_period_end",
                                                 "org_id": f"eq.{org.id}"})
        return rows[0] if rows else None

    def create(self, name: str, slug: str | None = None) -> Organization:
        row = self.api.rpc("create_organization", {"name": name, "slug": slug or slugify(name)})
        if isinstance(row, list):
            row = row[0]
        if isinstance(row, str):  # an RPC that returns the id only
            return self.get(row)
        return Organization.model_validate(row)

    def rename(self, ref: str, name: str | None = None, slug: str | None = None) -> Organization:
        org = self.get(ref)
        values = {k: v for k, v in (("name", name), ("slug", slug)) if v is not None}
        if not values:
            raise UsageError("nothing to change: pass a new name and/or --slug")
        rows = self.api.update("organizations", {"id": f"eq.{org.id}"}, values, select=ORG_FIELDS)
        if not rows:
            raise AuthError(f"permission denied: only an admin or owner can rename {org.slug}")
        return Organization.model_validate(rows[0])

    def delete(self, ref: str) -> Organization:
        org = self.get(ref)
        rows = self.api.delete("organizations", {"id": f"eq.{org.id}"}, select=ORG_FIELDS)
        if not rows:
            raise AuthError(f"permission denied: only an owner can delete {org.slug}")
        return org

    # -- members ---------------------------------------------------------------------------------------------
    def members(self, org: Organization) -> list[Member]:
        rows = self.api.rpc("list_org_members", {"org_id": org.id}) or []
        return sorted((Member.model_validate(r) for r in rows), key=lambda m: (ROLES.index(m.role), m.email or ""))

    def member(self, org: Organization, ref: str) -> Member:
        rows = [m.data() | {"id": m.user_id} for m in self.members(org)]
        found = pick(rows, ref, noun="member", keys=("email",), label=lambda r: r.get("email") or "",
                     list_hint=f"oncore members list --org {org.slug}")
        return Member.model_validate(found)

    def add_member(self, org: Organization, email: str, role: str) -> Invitation:
        """Invite `email`: they become a member when they accept (the answer is the same with or without an
        account)."""
        role = check_role(role)
        row = self.api.rpc("add_org_member", {"org_id": org.id, "email": email, "role": role})
        return Invitation.model_validate((row[0] if isinstance(row, list) else row) | {"org_slug": org.slug,
                                                                                         "org_name": org.name})

    def mail_invitation(self, org: Organization, email: str) -> dict:
        """Mail the invitee how to join, through the send-email edge function (admins; rate-limited per org)."""
        return self.api.invoke("send-email", {"template": "org_invitation", "org_id": org.id, "to": email})

    def pending(self, org: Organization) -> list[Invitation]:
        """The organization's invitations not yet accepted (visible to its admins; empty for anyone else)."""
        rows = self.api.select("org_invitations", {"org_id": f"eq.{org.id}", "order": "created_at.asc"})
        return [Invitation.model_validate(r) for r in rows]

    def invitations(self) -> list[Invitation]:
        """The signed-in user's pending invitations."""
        return [Invitation.model_validate(r) for r in self.api.rpc("list_my_invitations", {}) or []]

    def accept(self, ref: str) -> tuple[Invitation, Member]:
        rows = [i.data() | {"id": i.org_id, "slug": i.org_slug, "name": i.org_name} for i in self.invitations()]
        found = Invitation.model_validate(pick(rows, ref, noun="invitation",
                                               list_hint="oncore orgs invitations"))
        row = self.api.rpc("accept_org_invitation", {"org_id": found.org_id})
        return found, Member.model_validate(row[0] if isinstance(row, list) else row)

    def set_role(self, org: Organization, ref: str, role: str) -> Member:
        role = check_role(role)
        member = self.member(org, ref)
        rows = self.api.update("org_members", {"org_id": f"eq.{org.id}", "user_id": f"eq.{member.user_id}"},
                               {"role": role}, select="user_id,role,created_at")
        if not rows:
            raise AuthError(f"permission denied: only an admin or owner can change roles in {org.slug}")
        return member.model_copy(update={"role": role})

    def remove_member(self, org: Organization, ref: str) -> Member:
        member = self.member(org, ref)
        rows = self.api.delete("org_members", {"org_id": f"eq.{org.id}", "user_id": f"eq.{member.user_id}"},
                               select="user_id")
        if not rows:
            raise AuthError(f"permission denied: only an admin or owner can remove members of {org.slug}")
        return member


def check_role(role: str) -> str:
    """The role in the database's spelling (`Admin` → admin)."""
    if role.strip().lower() not in ROLES:
        raise UsageError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role.strip().lower()
