"""VenueService: the rooms an organization plays."""

from __future__ import annotations

from collections.abc import Callable
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
    def __init__(self, api: Api, org_id: str, note: Callable[[str], None] | None = None) -> None:
        self.api = api
        self.org_id = org_id
        self.note = note or (lambda text: None)  # told what was accepted but may be a mistake

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
        """A new venue. Without a timezone, the country's is taken when it has only one (else an error that
        lists the candidates): show times at a venue are wall-clock times in its zone."""
        _check_fields(values)
        if not values.get("name"):
            raise UsageError("a venue needs a name")
        if not values.get("timezone"):
            from oncore_cli.services.times import infer_zone

            values["timezone"] = infer_zone(values.get("country"), values.get("city"))
        twins = self._same_name(values["name"], values.get("city"))
        if twins:
            where = f" in {values['city']}" if values.get("city") else ""
            self.note(f"there is already a venue {values['name']!r}{where} ({', '.join(v.id[:8] for v in twins)}); "
                      f"creating another: refer to each by its id")
        return Venue.model_validate(self.api.insert("venues", {**values, "org_id": self.org_id}))

    def _same_name(self, name: str, city: str | None) -> list[Venue]:
        def key(a: str | None, b: str | None) -> tuple[str, str]:
            return (a or "").strip().lower(), (b or "").strip().lower()

        return [v for v in self.list() if key(v.name, v.city) == key(name, city)]

    def shows_at(self, venue_id: str) -> list[dict]:
        """The shows at a venue (id, date), for confirmations that say what an action touches."""
        return self.api.select("shows", {"select": "id,date", "org_id": f"eq.{self.org_id}",
                                         "venue_id": f"eq.{venue_id}", "order": "date.asc"})

    def update(self, ref: str, values: dict[str, Any]) -> Venue:
        _check_fields(values)
        if not values:
            raise UsageError("nothing to change: pass at least one option, e.g. --capacity 1200")
        venue = self.get(ref)
        rows = self.api.update("venues", {"id": f"eq.{venue.id}"}, values)
        if not rows:
            raise AuthError(f"permission denied: changing venues needs the member role or higher ({venue.name})")
        return Venue.model_validate(rows[0])

    def delete(self, ref: str) -> Venue:
        venue = self.get(ref)
        if not self.api.delete("venues", {"id": f"eq.{venue.id}"}, select="id"):
            raise AuthError(f"permission denied: deleting venues needs the member role or higher ({venue.name})")
        return venue


def _check_fields(values: dict[str, Any]) -> None:
    unknown = set(values) - set(VENUE_FIELDS)
    if unknown:
        raise UsageError(f"unknown venue field(s): {', '.join(sorted(unknown))}")
    if values.get("country"):
        values["country"] = values["country"].upper()
        if len(values["country"]) != 2 or not values["country"].isalpha():
            raise UsageError(f"--country {values['country']!r} must be an ISO 3166 alpha-2 code, e.g. DE")
    if values.get("timezone"):
        from oncore_cli.services.times import zone

        zone(values["timezone"])  # refuse a bad zone before anything is sent
