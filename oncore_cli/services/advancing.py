"""AdvancingService: sessions, access codes, sections and the advance sheet, for both sides.

Everything goes through the RPCs the web and mobile apps call (create_advancing_session, rotate_access_code,
claim_access_code, submit_<section>, get_advance_sheet); only a session's own status and deletion are plain table
writes, which RLS limits to admins. Sessions are found among those the caller can read, so the same code serves a
tour's member and a venue guest who sees exactly one session."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

from oncore_cli.core.errors import AuthError, NotFoundError, UsageError
from oncore_cli.services.lookup import is_uuid, pick

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

# Mirrors of the enums in models/advancing.py, kept here so reading a session does not import pydantic.
SESSION_STATUSES = ("draft", "sent", "in_progress", "confirmed")
SECTION_NAMES = ("hospitality", "technical", "production")
SESSION_FIELDS = "id,org_id,show_id,status,title,code_expires_at,code_rotated_at,created_at,updated_at"
SHOW_FIELDS = "id,org_id,venue_id,date,status,title,timezone"
_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$", re.I)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_CODE_SYMBOLS = re.compile(r"[^A-Za-z0-9]")


def parse_duration(text: str, flag: str = "--expires") -> tuple[str, dt.timedelta]:
    """"30d" → ("30 days", timedelta(days=30)); also m, h, w."""
    match = _DURATION.match(text or "")
    if not match:
        raise UsageError(f"bad {flag} {text!r}: use a number and a unit, e.g. 30d, 12h, 2w or 90m")
    amount, unit = int(match.group(1)), _UNITS[match.group(2).lower()]
    return f"{amount} {unit}", dt.timedelta(**{unit: amount})


def normalise_code(code: str) -> str:
    """The 12 symbols of an access code, upper case, dashes and spaces dropped; bad shapes refused locally (a
    malformed code is never sent, so it does not count as a wrong attempt)."""
    symbols = _CODE_SYMBOLS.sub("", code or "").upper()
    if len(symbols) != 12:
        raise UsageError(f"{code!r} is not an access code: it has 12 letters and digits, e.g. ABCD-EFGH-JKMN")
    return f"{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


class AdvancingService:
    def __init__(self, api: Api) -> None:
        self.api = api

    # -- finding sessions ------------------------------------------------------------------------------------
    def sessions(self, *, org_id: str | None = None, show_id: str | None = None,
                 status: str | None = None) -> list[dict]:
        """Sessions the caller can read, newest show first, each with its show (date, title) and venue."""
        params: list[tuple[str, str]] = [("select", SESSION_FIELDS), ("order", "created_at.asc")]
        if org_id:
            params.append(("org_id", f"eq.{org_id}"))
        if show_id:
            params.append(("show_id", f"eq.{show_id}"))
        if status:
            check_session_status(status)
            params.append(("status", f"eq.{status}"))
        return self._with_shows(self.api.select("advancing_sessions", params))

    def _with_shows(self, rows: list[dict]) -> list[dict]:
        """Each session with its show's date and title and its venue's name, city and time zone."""
        show_ids = sorted({r["show_id"] for r in rows})
        shows = {s["id"]: s for s in self.api.select(
            "shows", {"select": SHOW_FIELDS, "id": f"in.({','.join(show_ids)})"})} if show_ids else {}
        venue_ids = sorted({s["venue_id"] for s in shows.values() if s.get("venue_id")})
        venues = {v["id"]: v for v in self.api.select(
            "venues", {"select": "id,name,city,timezone", "id": f"in.({','.join(venue_ids)})"})} if venue_ids else {}
        for row in rows:
            show = shows.get(row["show_id"]) or {}
            venue = venues.get(show.get("venue_id") or "") or {}
            row.update(show_date=show.get("date"), show_title=show.get("title"), venue_name=venue.get("name"),
                       city=venue.get("city"), timezone=show.get("timezone") or venue.get("timezone"))
        rows.sort(key=lambda r: (r.get("show_date") or "", r.get("created_at") or ""))
        return rows

    def resolve(self, ref: str, *, org_id: str | None = None, with_show: bool = True) -> dict:
        """SESSION as a user types it: a session id or unique prefix, or the show (id, prefix, date or
        DATE@VENUE) when that show has exactly one session. `with_show=False` skips reading the show and venue
        when the session id alone was enough (callers that read the advance sheet get them there)."""
        ref = ref.strip()
        finish = self._with_shows if with_show else (lambda found: found)
        if is_uuid(ref):
            rows = self.api.select("advancing_sessions", {"select": SESSION_FIELDS, "id": f"eq.{ref}"})
            if rows:
                return finish(rows)[0]
            return self._one_of_show(self.sessions(show_id=ref, org_id=org_id), ref)
        params = [("select", SESSION_FIELDS), ("order", "created_at.asc")]
        if org_id:
            params.append(("org_id", f"eq.{org_id}"))
        rows = self.api.select("advancing_sessions", params)
        try:
            found = pick(rows, ref, noun="advancing session", keys=(), label=lambda r: r["id"][:8],
                         list_hint="oncore advancing list")
            return finish([found])[0]
        except NotFoundError:
            pass
        except UsageError:  # ambiguous prefix: name the candidates by show
            pick(self._with_shows(rows), ref, noun="advancing session", keys=(), label=_label)
        rows = self._with_shows(rows)
        day, _, venue = ref.partition("@")
        by_show = [r for r in rows if r["show_id"].lower().startswith(ref.lower())] if len(ref) >= 4 else []
        if not by_show:
            by_show = [r for r in rows if r.get("show_date") == day.strip()
                       and (not venue or _venue_matches(r.get("venue_name"), venue))]
        return self._one_of_show(by_show, ref)

    @staticmethod
    def _one_of_show(rows: list[dict], ref: str) -> dict:
        if not rows:
            raise NotFoundError(f"advancing session {ref!r} not found: see oncore advancing list")
        if len({r["show_id"] for r in rows}) > 1 or len(rows) > 1:
            shown = ", ".join(f"{r['id'][:8]} ({_label(r)})" for r in rows[:5])
            raise UsageError(f"{ref!r} matches {len(rows)} advancing sessions: {shown}; give the session id")
        return rows[0]

    # -- sessions ------------------------------------------------------------------------------------------------
    def create(self, show_id: str, *, expires_in: str = "30 days", title: str | None = None) -> dict:
        return self.api.rpc("create_advancing_session", {"show_id": show_id, "expires_in": expires_in,
                                                         "title": title})

    def rotate(self, session_id: str, *, expires_in: str = "30 days") -> dict:
        return self.api.rpc("rotate_access_code", {"session_id": session_id, "expires_in": expires_in})

    def set_status(self, session_id: str, status: str) -> dict:
        check_session_status(status)
        rows = self.api.update("advancing_sessions", {"id": f"eq.{session_id}"}, {"status": status},
                               select=SESSION_FIELDS)
        if not rows:
            raise AuthError("permission denied: only an organization's admins change a session's status")
        return rows[0]

    def delete(self, session_id: str) -> None:
        if not self.api.delete("advancing_sessions", {"id": f"eq.{session_id}"}, select="id"):
            raise AuthError("permission denied: only an organization's admins delete advancing sessions")

    # -- sections and the sheet ------------------------------------------------------------------------------------
    def sheet(self, session_id: str) -> dict:
        return self.api.rpc("get_advance_sheet", {"session_id": session_id})

    def submit(self, section: str, session_id: str, data: dict[str, Any]) -> dict:
        from oncore_cli.models.advancing import validate

        validate(section, data)
        return self.api.rpc(f"submit_{section}", {"session_id": session_id, "data": data})

    def history(self, session_id: str) -> list[dict]:
        return self.api.select("activity_log", [
            ("select", "id,created_at,actor_id,actor_kind,action,entity,entity_id,changes"),
            ("session_id", f"eq.{session_id}"), ("order", "created_at.asc,id.asc")])

    # -- the venue side ------------------------------------------------------------------------------------------
    def claim(self, code: str) -> dict:
        return self.api.rpc("claim_access_code", {"code": normalise_code(code)})


def check_session_status(status: str) -> None:
    if status not in SESSION_STATUSES:
        raise UsageError(f"unknown status {status!r}: use one of {', '.join(SESSION_STATUSES)}")


def last_changes(history: list[dict]) -> dict[str, dict]:
    """Per section, the newest activity entry that touched it: {section: {at, actor_id, actor_kind, fields}}."""
    found: dict[str, dict] = {}
    for entry in history:
        if entry.get("entity") in SECTION_NAMES:
            fields = sorted(k for k in (entry.get("changes") or {}) if k not in ("updated_at", "updated_by"))
            found[entry["entity"]] = {"at": entry["created_at"], "actor_id": entry.get("actor_id"),
                                      "actor_kind": entry.get("actor_kind"), "action": entry.get("action"),
                                      "fields": fields}
    return found


def _label(row: dict) -> str:
    return " ".join(x for x in (row.get("show_date"), row.get("venue_name"), row.get("title")) if x)


def _venue_matches(name: str | None, wanted: str) -> bool:
    return bool(name) and name.lower().startswith(wanted.strip().lower())


# -- sheets for show days (day sheet, tour book) -----------------------------------------------------------------
def sheets_for_shows(api: Api, shows: list, org: dict, progress=None) -> list[dict]:
    """One advance-sheet document per show, in the shows' order: get_advance_sheet of the show's newest session,
    or, for a show nobody advances yet, the same document built from the show and its venue."""
    service = AdvancingService(api)
    newest: dict[str, str] = {}
    for row in service.sessions(org_id=org["id"]):
        newest[row["show_id"]] = row["id"]  # sessions come oldest first: the last one wins
    venues = {}
    missing = {s.venue_id for s in shows if s.venue_id and s.id not in newest}
    if missing:
        venues = {v["id"]: v for v in api.select("venues", {"select": "*", "id": f"in.({','.join(sorted(missing))})"})}
    sheets = []
    for show in shows:
        if show.id in newest:
            sheets.append(service.sheet(newest[show.id]))
        else:
            sheets.append(sheet_from_show(show, venues.get(show.venue_id or ""), org))
        if progress:
            progress()
    return sheets


def sheet_from_show(show, venue: dict | None, org: dict) -> dict:
    """get_advance_sheet's document for a show without an advancing session (empty sections)."""
    data = show.data()
    tz = data.get("timezone") or (venue or {}).get("timezone") or "UTC"  # as get_advance_sheet chooses it
    fixed = [("Load-in", data.get("load_in_at")), ("Doors", data.get("doors_at")),
             ("Set time", data.get("set_time_at")), ("Curfew", data.get("curfew_at"))]
    items = [{"label": label, "at": at} for label, at in fixed if at]
    items += [dict(item) for item in data.get("schedule") or [] if isinstance(item, dict)]
    items.sort(key=lambda item: _instant(item.get("at")))
    venue_doc = {k: v for k, v in (venue or {}).items() if k != "contacts"} or None
    return {"version": 1, "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(), "timezone": tz,
            "session": None, "organization": {"id": org.get("id"), "name": org.get("name")},
            "show": {k: v for k, v in data.items() if k not in ("schedule", "venue_name", "city")},
            "venue": venue_doc, "schedule": items, "contacts": list((venue or {}).get("contacts") or []),
            "hospitality": None, "technical": None, "production": None}


def _instant(value: str | None) -> dt.datetime:
    if not value:
        return dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(value)
