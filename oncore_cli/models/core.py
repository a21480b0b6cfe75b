"""Records of the core schema as the services return them. Field names are the database's, so `--json` output
is stable and matches what a web client reads through supabase-js."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["owner", "admin", "member", "viewer"]
ShowStatus = Literal["hold", "confirmed", "cancelled"]
ROLES: tuple[str, ...] = ("owner", "admin", "member", "viewer")
SHOW_STATUSES: tuple[str, ...] = ("hold", "confirmed", "cancelled")


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def data(self) -> dict[str, Any]:
        """JSON-ready: ISO 8601 dates and instants, stable field names."""
        return self.model_dump(mode="json")


class Organization(Record):
    id: str
    name: str
    slug: str
    created_at: dt.datetime | None = None


class Member(Record):
    user_id: str
    email: str | None = None
    role: Role
    created_at: dt.datetime | None = None


class Invitation(Record):
    """A pending invitation to an organization (add_org_member makes one; the invitee accepts it)."""
    org_id: str
    role: Role
    email: str | None = None        # the invited address (what an admin sees)
    org_name: str | None = None     # the organization (what the invitee sees: it cannot read it yet)
    org_slug: str | None = None
    invited_by: str | None = None
    created_at: dt.datetime | None = None


class Venue(Record):
    id: str
    org_id: str
    name: str
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    timezone: str | None = None
    capacity: int | None = None
    venue_type: str | None = None
    contacts: list[Any] = []
    notes: str | None = None
    external_ref: str | None = None


class Show(Record):
    id: str
    org_id: str
    venue_id: str | None = None
    date: dt.date
    status: ShowStatus
    title: str | None = None
    load_in_at: dt.datetime | None = None
    doors_at: dt.datetime | None = None
    set_time_at: dt.datetime | None = None
    curfew_at: dt.datetime | None = None
    schedule: list[Any] = []
    capacity: int | None = None
    currency: str | None = None
    promoter_email: str | None = None
    notes: str | None = None
    external_ref: str | None = None
    # Filled in by ShowService from the venue (not a column): what a reader needs to place the show.
    venue_name: str | None = None
    city: str | None = None
    timezone: str | None = None
