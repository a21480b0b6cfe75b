"""VenueService: the rooms an organization plays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oncore_cli.core.errors import AuthError, UsageError
from oncore_cli.models.core import Venue
from oncore_cli.services.lookup import is_uuid, pick

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

VENUE_FIELDS = ("name", "address", "postcode", "city", "region", "country", "timezone", "capacity", "venue_type",
                "contacts", "notes", "external_ref")


def _like(text: str) -> str:
    # PostgREST's like/ilike take * as the wildcard; reserved characters inside the value are quoted.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"*{escaped}*"' if any(c in text for c in ',()"') else f"*{text}*"


class VenueService:
    def __init__(self, api: Api, org_id: str) -> None:
        self.api = api
        self.org_id = org_id

    def list(self, city: str | None = None, name: str | None = None) -> list[Venue]:
        params: list[tuple[str, str]] = [("select", "*"), ("org_id", f"eq.{self.org_id}"), ("order", "name.asc,city.asc")]
        if city:
            params.append(("city", f"ilike.{_like(city)}"))
        if name:
            params.append(("name", f"ilike.{_like(name)}"))
        return [Venue.model_validate(r) for r in self.api.select("venues", params)]

    def get(self, ref: str) -> Venue:
        params = {"select": "*", "org_id": f"eq.{self.org_id}"}
        if is_uuid(ref):
            params["id"] = f"eq.{ref}"
        rows = self.api.select("venues", params)
        found = pick(rows, ref, noun="venue", keys=("external_ref", "name"),
                     label=lambda r: ", ".join(x for x in (r.get("name"), r.get("city")) if x),
                     list_hint="oncore venues list")
        return Venue.model_validate(found)

    def by_ids(self, ids: set[str]) -> dict[str, Venue]:
        if not ids:
            return {}
        rows = self.api.select("venues", {"select": "*", "id": f"in.({','.join(sorted(ids))})"})
        return {r["id"]: Venue.model_validate(r) for r in rows}

    def create(self, values: dict[str, Any]) -> Venue:
        _check_fields(values)
        if not values.get("name"):
            raise UsageError("a venue needs a name")
        return Venue.model_validate(self.api.insert("venues", {**values, "org_id": self.org_id}))

    def update(self, ref: str, values: dict[str, Any]) -> Venue:
        _check_fields(values)
        if not values:
            raise UsageError("nothing to change: pass at least one option, e.g. --capacity 1200")
        venue = self.get(ref)
        rows = self.api.update("venues", {"id": f"eq.{venue.id}"}, values)
        if not rows:
            raise AuthError(f"permission denied: viewers cannot change venues ({venue.name})")
        return Venue.model_validate(rows[0])

    def delete(self, ref: str) -> Venue:
        venue = self.get(ref)
        if not self.api.delete("venues", {"id": f"eq.{venue.id}"}, select="id"):
            raise AuthError(f"permission denied: viewers cannot delete venues ({venue.name})")
        return venue


def _check_fields(values: dict[str, Any]) -> None:
    unknown = set(values) - set(VENUE_FIELDS)
    if unknown:
        raise UsageError(f"unknown venue field(s): {', '.join(sorted(unknown))}")
    if values.get("country"):
        values["country"] = values["country"].upper()
        if len(values["country"]) != 2 or not values["country"].isalpha():
            raise UsageError(f"country {values['country']!r} must be an ISO 3166 alpha-2 code, e.g. DE")
    if values.get("timezone"):
        from oncore_cli.services.times import zone

        zone(values["timezone"])  # refuse a bad zone before anything is sent
