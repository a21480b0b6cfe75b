"""ShowService: an organization's show days."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from oncore_cli.core.errors import AuthError, UsageError
from oncore_cli.models.core import SHOW_STATUSES, Show, Venue
from oncore_cli.services.lookup import is_uuid, pick
from oncore_cli.services.times import TIME_FIELDS, local_hhmm, parse_local_times, zone
from oncore_cli.services.venues import VenueService

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

SHOW_FIELDS = ("date", "status", "title", "venue_id", "timezone", *TIME_FIELDS, "capacity", "currency", "promoter_email",
               "notes", "external_ref", "schedule")
LIST_FIELDS = "id,org_id,venue_id,date,status,title,timezone,load_in_at,doors_at,set_time_at,curfew_at,schedule,capacity," \
              "currency,promoter_email,notes,external_ref"


class ShowService:
    def __init__(self, api: Api, org_id: str, note: Callable[[str], None] | None = None) -> None:
        self.api = api
        self.org_id = org_id
        self.venues = VenueService(api, org_id, note)
        self.note = note or (lambda text: None)  # told what was accepted but may be a mistake

    def list(self, *, date_from: dt.date | None = None, date_to: dt.date | None = None, status: str | None = None,
             venue: str | None = None, limit: int | None = None) -> list[Show]:
        params: list[tuple[str, str]] = [("select", LIST_FIELDS), ("org_id", f"eq.{self.org_id}"),
                                         ("order", "date.asc,doors_at.asc.nullslast")]
        if date_from:
            params.append(("date", f"gte.{date_from.isoformat()}"))
        if date_to:
            params.append(("date", f"lte.{date_to.isoformat()}"))
        if status:
            params.append(("status", f"eq.{check_status(status)}"))
        if venue:
            params.append(("venue_id", f"eq.{self.venues.get(venue).id}"))
        if limit is not None:
            if limit < 1:
                raise UsageError("--limit must be at least 1")
            params.append(("limit", str(limit)))
        return self._with_venues(self.api.select("shows", params))

    def get(self, ref: str) -> Show:
        params = {"select": LIST_FIELDS, "org_id": f"eq.{self.org_id}"}
        if is_uuid(ref):
            params["id"] = f"eq.{ref}"
        rows = self.api.select("shows", params)
        same_day = [r for r in rows if r.get("date") == ref.strip()]
        names = {v.id: v.name for v in self.venues.by_ids({r["venue_id"] for r in same_day if r.get("venue_id")}).values()} \
            if len(same_day) > 1 else {}

        def label(row: dict) -> str:
            return " ".join(x for x in (row.get("date"), names.get(row.get("venue_id") or ""), row.get("title")) if x)

        found = pick(rows, ref, noun="show", keys=("external_ref", "date"), label=label, list_hint="oncore shows list")
        return self._with_venues([found])[0]

    def create(self, *, date: dt.date, venue: str | None, status: str = "hold", times: dict[str, str | None] | None = None,
               timezone: str | None = None, **values: Any) -> Show:
        status = check_status(status)
        row: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        _check_fields(row)
        place = self.venues.get(venue) if venue else None
        tz = timezone or (place.timezone if place else None)
        if timezone:
            zone(timezone)
        row.update(org_id=self.org_id, date=date.isoformat(), status=status, venue_id=place.id if place else None)
        if tz:
            row["timezone"] = tz
        if times:
            row.update(parse_local_times(date, tz, times, note=self.note))
        if place:
            self._warn_same_day(place, date)
        created = self.api.insert("shows", row, select=LIST_FIELDS)
        return self._with_venues([created], known=[place] if place else [])[0]

    def update(self, ref: str, *, venue: str | None = None, times: dict[str, str | None] | None = None,
               timezone: str | None = None, **values: Any) -> Show:
        show = self.get(ref)
        row: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        if "status" in row:
            row["status"] = check_status(row["status"])
        if isinstance(row.get("date"), dt.date):
            row["date"] = row["date"].isoformat()
        _check_fields(row)
        tz = show.timezone
        place = None
        if venue is not None:
            place = self.venues.get(venue)
            row["venue_id"], tz = place.id, place.timezone or tz
        if timezone:
            zone(timezone)
            tz = timezone
        if tz and tz != show.timezone:
            row["timezone"] = tz
        times = {k: v for k, v in (times or {}).items() if v is not None}
        if "date" in row or tz != show.timezone:
            # A show moved to another day, venue or zone keeps its wall-clock times there.
            for field in TIME_FIELDS:
                if field not in times and getattr(show, field):
                    times[field] = local_hhmm(getattr(show, field), show.timezone).removesuffix(" UTC")
        if times:
            day = dt.date.fromisoformat(row["date"]) if "date" in row else show.date
            existing = {f: getattr(show, f) for f in TIME_FIELDS}
            row.update(parse_local_times(day, tz, times, existing, note=self.note))
        if not row:
            raise UsageError("nothing to change: pass at least one option, e.g. --status confirmed")
        if "date" in row or place:
            target = place or (self.venue_of(show))
            if target:
                self._warn_same_day(target, dt.date.fromisoformat(row.get("date") or show.date.isoformat()), show.id)
        rows = self.api.update("shows", {"id": f"eq.{show.id}"}, row, select=LIST_FIELDS)
        if not rows:
            raise AuthError("permission denied: changing shows needs the member role or higher (you are a viewer)")
        return self._with_venues(rows)[0]

    def _warn_same_day(self, place: Venue, day: dt.date, skip: str | None = None) -> None:
        """Two shows at one venue on one day are allowed (a matinee), but said."""
        others = [r for r in self.api.select("shows", {"select": "id", "org_id": f"eq.{self.org_id}",
                                                        "venue_id": f"eq.{place.id}", "date": f"eq.{day.isoformat()}"})
                  if r["id"] != skip]
        if others:
            ids = ", ".join(r["id"][:8] for r in others)
            self.note(f"{place.name} already has a show on {day} ({ids}); keeping both (a matinee?)")

    def delete(self, ref: str) -> Show:
        show = self.get(ref)
        if not self.api.delete("shows", {"id": f"eq.{show.id}"}, select="id"):
            raise AuthError("permission denied: deleting shows needs the member role or higher (you are a viewer)")
        return show

    def sessions_of(self, show_id: str) -> list[dict]:
        """The show's advancing sessions (id), which go with it."""
        return self.api.select("advancing_sessions", {"select": "id", "show_id": f"eq.{show_id}"})

    def _with_venues(self, rows: list[dict], known: list[Venue] | None = None) -> list[Show]:
        venues = {v.id: v for v in known or []}
        missing = {r["venue_id"] for r in rows if r.get("venue_id") and r["venue_id"] not in venues}
        venues.update(self.venues.by_ids(missing))
        shows = []
        for row in rows:
            venue = venues.get(row.get("venue_id") or "")
            extra = {"venue_name": venue.name, "city": venue.city} if venue else {}
            if venue and not row.get("timezone"):
                extra["timezone"] = venue.timezone
            shows.append(Show.model_validate({**row, **extra}))
        return shows

    def venue_of(self, show: Show) -> Venue | None:
        return self.venues.by_ids({show.venue_id}).get(show.venue_id) if show.venue_id else None


def check_status(status: str) -> str:
    """The status in the database's spelling (`Confirmed` → confirmed)."""
    if status.strip().lower() not in SHOW_STATUSES:
        raise UsageError(f"unknown status {status!r}: use one of {', '.join(SHOW_STATUSES)}")
    return status.strip().lower()


def _check_fields(values: dict[str, Any]) -> None:
    unknown = set(values) - set(SHOW_FIELDS)
    if unknown:
        raise UsageError(f"unknown show field(s): {', '.join(sorted(unknown))}")
    if values.get("currency"):
        values["currency"] = values["currency"].upper()
        if len(values["currency"]) != 3 or not values["currency"].isalpha():
            raise UsageError(f"--currency {values['currency']!r} must be an ISO 4217 code, e.g. EUR")
    email = values.get("promoter_email")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise UsageError(f"--promoter-email {email!r} is not an e-mail address")
