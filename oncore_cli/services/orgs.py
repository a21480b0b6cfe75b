"""OrganizationService: organizations and their members."""

from __future__ import annotations

from typing import TYPE_CHECKING

from oncore_cli.core.errors import AuthError, NotFoundError, UsageError
from oncore_cli.models.core import ROLES, Member, Organization
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

    def add_member(self, org: Organization, email: str, role: str) -> Member:
        role = check_role(role)
        self.api.rpc("add_org_member", {"org_id": org.id, "email": email, "role": role})
        for m in self.members(org):
            if (m.email or "").lower() == email.lower():
                return m
        raise NotFoundError(f"{email} was not added to {org.slug}")

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
