"""SeedService: a CI fixture (YAML or JSON) into a project, with the service-role key, idempotently.

Fixture schema (documented in the README, example in supabase/fixtures/demo.yaml):

    orgs:
      - slug: northern-lights              # identity
        name: Northern Lights Touring
        members:                           # users are created through the auth admin API when missing
          - {email: tm@example.com, role: owner, password: optional}   # no password: one is generated, shown once
        venues:                            # import_venues rows: name, city, country, timezone, capacity, ...
          - {name: Palladium, city: Köln, country: DE, timezone: Europe/Berlin, capacity: 4000}
        shows:                             # tour-format rows; country and timezone default to the venue's
          - {date: 2027-03-14, venue_name: Palladium, city: Köln, status: confirmed, doors: "19:00", curfew: "23:00"}
        advancing:                         # one session per show (date + venue_name), with an optional title
          - {date: 2027-03-14, venue_name: Palladium, title: Spring run}

Venues and shows go through the same validation and RPCs as `oncore import`; running a fixture again changes
nothing (members keep their passwords, sessions are not duplicated).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from oncore_cli.core.errors import OncoreError, UsageError

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

ROLES = ("owner", "admin", "member", "viewer")


@dataclass
class SeedResult:
    orgs: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)  # {email, created, password (only when generated)}
    sessions: list[dict] = field(default_factory=list)  # {org, date, venue_name, session_id, access_code, created}

    def as_dict(self) -> dict:
        return {"orgs": self.orgs, "users": self.users, "sessions": self.sessions}


def load_fixture(path: Path) -> dict:
    """One fixture file, or every *.yaml / *.yml / *.json in a directory (in name order) merged."""
    files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".json")) if path.is_dir() else [path]
    if not files:
        raise UsageError(f"no .yaml, .yml or .json fixture in {path}")
    merged: dict[str, list] = {"orgs": []}
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read {file}: {e.strerror or e}") from None
        if file.suffix == ".json":
            try:
                data = json.loads(text)
            except ValueError as e:
                raise UsageError(f"{file}: not valid JSON: {e}") from None
        else:
            import yaml

            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as e:
                raise UsageError(f"{file}: not valid YAML: {' '.join(str(e).split())}") from None
        if not isinstance(data, dict) or not isinstance(data.get("orgs", []), list):
            raise UsageError(f"{file}: a fixture is a mapping with an `orgs` list")
        merged["orgs"] += data.get("orgs") or []
    return merged


TIME_FIELDS = ("load_in", "doors", "set_time", "curfew")


def _record(row: dict) -> dict:
    """A fixture row as the importer's text cells. YAML 1.1 reads an unquoted 19:00 as the number 1140
    (base 60): such numbers in time fields are turned back into HH:MM."""
    record = {}
    for key, value in row.items():
        if key in TIME_FIELDS and isinstance(value, int) and not isinstance(value, bool):
            value = f"{value // 60:02d}:{value % 60:02d}"
        record[key] = _text(value)
    return record


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _table(source: str, records: list[tuple[int, dict]]):
    from oncore_cli.services.import_file import Table

    return Table.from_records(source, records)


class SeedService:
    def __init__(self, api: Api) -> None:
        self.api = api

    # -- users -------------------------------------------------------------------------------------------------------
    def _users_by_email(self) -> dict[str, str]:
        found: dict[str, str] = {}
        page = 1
        while True:
            body = self.api.call("GET", "/auth/v1/admin/users", params={"page": page, "per_page": 1000})
            users = body.get("users", []) if isinstance(body, dict) else body
            for user in users:
                if user.get("email"):
                    found[user["email"].lower()] = user["id"]
            if len(users) < 1000:
                return found
            page += 1

    def ensure_user(self, email: str, password: str | None, known: dict[str, str], result: SeedResult) -> str:
        if email.lower() in known:
            result.users.append({"email": email, "created": False})
            return known[email.lower()]
        generated = password is None
        password = password or secrets.token_urlsafe(12)
        user = self.api.call("POST", "/auth/v1/admin/users",
                             json={"email": email, "password": password, "email_confirm": True})
        known[email.lower()] = user["id"]
        result.users.append({"email": email, "created": True, **({"password": password} if generated else {})})
        return user["id"]

    # -- organizations -----------------------------------------------------------------------------------------------
    def ensure_org(self, slug: str, name: str) -> tuple[str, bool]:
        rows = self.api.select("organizations", {"select": "id,name", "slug": f"eq.{slug}"})
        if rows:
            if rows[0]["name"] != name:
                self.api.update("organizations", {"id": f"eq.{rows[0]['id']}"}, {"name": name})
            return rows[0]["id"], False
        return self.api.insert("organizations", {"slug": slug, "name": name})["id"], True

    def ensure_member(self, org_id: str, user_id: str, role: str) -> None:
        rows = self.api.select("org_members", {"select": "role", "org_id": f"eq.{org_id}",
                                               "user_id": f"eq.{user_id}"})
        if not rows:
            self.api.insert("org_members", {"org_id": org_id, "user_id": user_id, "role": role}, select="role")
        elif rows[0]["role"] != role:
            self.api.update("org_members", {"org_id": f"eq.{org_id}", "user_id": f"eq.{user_id}"}, {"role": role})

    # -- the whole fixture -------------------------------------------------------------------------------------------
    def seed(self, fixture: dict) -> SeedResult:
        from oncore_cli.services.imports import ImportService, plan_shows, plan_venues

        result = SeedResult()
        known = self._users_by_email()
        for number, org in enumerate(fixture.get("orgs") or [], start=1):
            if not isinstance(org, dict) or not org.get("slug"):
                raise UsageError(f"orgs[{number}]: each organization needs a slug")
            slug = str(org["slug"])
            org_id, created = self.ensure_org(slug, str(org.get("name") or slug))
            for member in org.get("members") or []:
                role = member.get("role", "member")
                if role not in ROLES or not member.get("email"):
                    raise UsageError(f"{slug}: each member needs an email and a role ({', '.join(ROLES)})")
                user_id = self.ensure_user(member["email"], member.get("password"), known, result)
                self.ensure_member(org_id, user_id, role)
            imports = ImportService(self.api, org_id)
            counts: dict[str, Any] = {"slug": slug, "id": org_id, "created": created}
            venues = org.get("venues") or []
            by_name = {(str(v.get("name", "")).casefold(), str(v.get("city", "")).casefold()): v for v in venues}
            if venues:
                plan = plan_venues(_table(f"{slug} venues", [(i, _record(row)) for i, row in enumerate(venues, 1)]))
                self._check(plan)
                counts["venues"] = imports.send(plan)["venues"]
            shows = org.get("shows") or []
            if shows:
                records = []
                for i, row in enumerate(shows, start=1):
                    record = _record(row)
                    venue = by_name.get((str(row.get("venue_name", "")).casefold(),
                                         str(row.get("city", "")).casefold()), {})
                    for name in ("country", "timezone"):
                        record.setdefault(name, _text(venue.get(name)))
                    record.setdefault("status", "hold")
                    records.append((i, record))
                plan = plan_shows(_table(f"{slug} shows", records))
                self._check(plan)
                counts["shows"] = imports.send(plan)["shows"]
            for session in org.get("advancing") or []:
                result.sessions.append(self.ensure_session(org_id, slug, session))
            result.orgs.append(counts)
        return result

    def _check(self, plan) -> None:
        if plan.problems:
            raise UsageError("fixture: " + "; ".join(p.text(plan.source) for p in plan.problems[:5]))

    def ensure_session(self, org_id: str, slug: str, spec: dict) -> dict:
        date, venue_name = _text(spec.get("date")), spec.get("venue_name")
        shows = self.api.select("shows", {"select": "id,venue_id", "org_id": f"eq.{org_id}", "date": f"eq.{date}"})
        names = {v["id"]: v["name"] for v in self.api.select("venues", {"select": "id,name", "org_id": f"eq.{org_id}"})}
        match = [s for s in shows
                 if not venue_name or names.get(s["venue_id"], "").casefold() == str(venue_name).casefold()]
        if len(match) != 1:
            raise UsageError(f"{slug}: advancing: no single show on {date}{' at ' + venue_name if venue_name else ''}")
        show_id = match[0]["id"]
        title = spec.get("title")
        found = self.api.select("advancing_sessions", {"select": "id,title", "show_id": f"eq.{show_id}"})
        found = [s for s in found if s.get("title") == title]
        info = {"org": slug, "date": date, "venue_name": venue_name, "title": title}
        if found:
            return {**info, "session_id": found[0]["id"], "created": False}
        created = self.api.rpc("create_advancing_session", {"show_id": show_id, "title": title})
        return {**info, "session_id": created["session_id"], "access_code": created["access_code"], "created": True}

    # -- reset (local stack only) ------------------------------------------------------------------------------------
    def reset(self, fixture: dict) -> None:
        """Delete the fixture's organizations (with everything in them) and its users."""
        for org in fixture.get("orgs") or []:
            if isinstance(org, dict) and org.get("slug"):
                self.api.delete("organizations", {"slug": f"eq.{org['slug']}"}, select="id")
        known = self._users_by_email()
        for org in fixture.get("orgs") or []:
            for member in (org.get("members") or []) if isinstance(org, dict) else []:
                user_id = known.get(str(member.get("email", "")).lower())
                if user_id:
                    response = self.api.request("DELETE", f"/auth/v1/admin/users/{user_id}")
                    if response.status_code >= 400 and response.status_code != 404:
                        raise OncoreError(f"could not delete user {member['email']}: {response.text[:200]}")
