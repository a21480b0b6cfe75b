"""`oncore local start --demo`: a demo tour on the local stack, and the CLI logged in to it.

Everything goes through the public API as the demo tour manager (sign-up, then the same services and RPCs every
command uses), never with the service-role key, so the demo also proves the stack works end to end. Running it
again reuses what exists and only issues a fresh access code (codes are shown once).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oncore_cli.core.context import App
    from oncore_cli.core.output import Output
    from oncore_cli.local.stack import StackInfo

DEMO_EMAIL = "tm@demo.oncore.local"
DEMO_PASSWORD = "oncore-demo"  # a local, throwaway account; printed in the next steps
DEMO_PROFILE = "local"
DEMO_ORG = ("Northern Lights Touring", "northern-lights")

# (name, city, country, timezone, capacity): names as venues write them, accents included.
VENUES = [
    ("Palladium", "Köln", "DE", "Europe/Berlin", 4000),
    ("Volkshaus", "Zürich", "CH", "Europe/Zurich", 1600),
    ("Klub Wytwórnia", "Łódź", "PL", "Europe/Warsaw", 1400),
    ("Paradiso", "Amsterdam", "NL", "Europe/Amsterdam", 1500),
    ("Le Trianon", "Paris", "FR", "Europe/Paris", 1000),
    ("Roundhouse", "London", "GB", "Europe/London", 3300),
]
# (days from today, venue index, status, load-in, doors, set, curfew)
SHOWS = [
    (14, 0, "confirmed", "14:00", "19:00", "21:00", "23:00"),
    (15, 1, "confirmed", "13:00", "19:30", "21:15", "23:30"),
    (17, 2, "confirmed", "15:00", "20:00", "21:30", "00:30"),
    (18, 3, "hold", None, "19:30", "21:00", "23:00"),
    (20, 4, "confirmed", "14:30", "19:00", "20:45", "22:30"),
    (21, 5, "cancelled", None, "19:00", "21:00", "23:00"),
    (23, 0, "hold", None, None, None, None),
]


@dataclass
class DemoResult:
    email: str
    password: str
    profile: str
    org_slug: str
    venues: int
    shows: int
    session_id: str
    access_code: str
    code_expires_at: str
    created: bool
    previous_profile: str | None = None  # the profile that was current before the demo's, to go back to

    def as_dict(self) -> dict:
        return asdict(self)

    def print_next_steps(self, out: Output) -> None:
        verb = "Loaded" if self.created else "Reused"
        out.message(
            f"\n{verb} the demo tour: organization {self.org_slug}, {self.venues} venues, {self.shows} shows, one "
            f"advancing session.\nLogged in as {self.email} (password {self.password}) in profile {self.profile}.\n"
            f"Venue access code for the advancing session (shown once): {self.access_code}\n\n"
            "Next steps:\n"
            "  oncore whoami\n"
            "  oncore shows list\n"
            "  oncore venues list --json\n"
            "  oncore shows export --format ics > tour.ics\n"
            "  oncore advancing list\n"
            f"  oncore advancing set {self.session_id[:8]} hospitality.guest_count=15   # the demo's advance\n"
            f"  oncore advancing export {self.session_id[:8]} --pdf advance.pdf\n"
            "  oncore tail                 # watch changes land (Ctrl-C to stop)\n"
            "  oncore api GET '/rest/v1/advancing_sessions?select=id,status,shows(date)'\n"
            "  oncore local status        # URLs and keys for supabase-py / supabase-js"
            + (f"\n  oncore profiles use {self.previous_profile}  # back to your own profile"
               if self.previous_profile else "")
            + _how_to_reach_oncore()
        )


def _how_to_reach_oncore() -> str:
    """A line saying how to run `oncore` again when the one running now is not the one on PATH (a fresh virtual
    environment such as the .venv that bootstrap.py creates, or a tool directory not yet on PATH), else nothing."""
    import os
    import shutil
    import sys
    from pathlib import Path

    invoked = Path(sys.argv[0]).absolute()
    if invoked.stem != "oncore" or not invoked.exists():
        return ""  # python -m oncore_cli, or in-process
    on_path = shutil.which("oncore")
    if on_path and Path(on_path).resolve() == invoked.resolve():
        return ""
    cwd = Path.cwd()
    inside = cwd != Path(cwd.anchor) and cwd in invoked.parent.parents
    shown = invoked.parent.relative_to(cwd) if inside else invoked.parent
    activate = shown / ("activate.bat" if os.name == "nt" else "activate")
    if (invoked.parent / activate.name).exists():
        how = f"activate it with `{'' if os.name == 'nt' else 'source '}{activate}`, or call {shown / invoked.name}"
    else:
        how = f"add {shown} to PATH, or call {shown / invoked.name}"
    return f"\n\noncore is installed in {shown}, which is not on your PATH: {how}."


def _sign_in(api_url: str, anon_key: str) -> dict:
    import httpx

    headers = {"apikey": anon_key, "Authorization": f"Bearer {anon_key}"}
    body = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    with httpx.Client(base_url=f"{api_url}/auth/v1", headers=headers, timeout=30) as http:
        response = http.post("/token", params={"grant_type": "password"}, json=body)
        if response.status_code == 400:  # no such user yet: sign up (autoconfirm answers with a session)
            response = http.post("/signup", json=body)
        response.raise_for_status()
        return response.json()


def load_demo(app: App, info: StackInfo) -> DemoResult:
    from oncore_cli.core import config as cfg
    from oncore_cli.core.client import session_from_payload
    from oncore_cli.services.lookup import slugify
    from oncore_cli.services.orgs import OrganizationService
    from oncore_cli.services.shows import ShowService
    from oncore_cli.services.venues import VenueService

    with app.output.status("Loading the demo tour…"):
        session = session_from_payload(_sign_in(info.api_url, info.anon_key))
        config = app.config
        previous = config.current if config.current != DEMO_PROFILE and config.current in config.profiles else None
        config.profiles[DEMO_PROFILE] = cfg.Profile(DEMO_PROFILE, url=info.api_url, anon_key=info.anon_key,
                                                    org=DEMO_ORG[1])
        config.current = DEMO_PROFILE
        app.credentials.set(DEMO_PROFILE, session)
        app.save_config()
        app.profile_flag = DEMO_PROFILE
        for cached in ("settings", "api"):
            app.__dict__.pop(cached, None)

        orgs = OrganizationService(app.api)
        existing = [o for o in orgs.list() if o.slug == DEMO_ORG[1]]
        created = not existing
        org = existing[0] if existing else orgs.create(*DEMO_ORG)
        venues_service = VenueService(app.api, org.id)
        shows_service = ShowService(app.api, org.id)
        if created:
            venues = [venues_service.create({"name": name, "city": city, "country": country, "timezone": tz,
                                             "capacity": capacity, "external_ref": f"demo-venue-{i}"})
                      for i, (name, city, country, tz, capacity) in enumerate(VENUES)]
            today = dt.date.today()
            for i, (days, venue, status, load_in, doors, set_time, curfew) in enumerate(SHOWS):
                shows_service.create(
                    date=today + dt.timedelta(days=days), venue=venues[venue].id, status=status,
                    times={"load_in_at": load_in, "doors_at": doors, "set_time_at": set_time, "curfew_at": curfew},
                    title="Northern Lights — Spring Run", external_ref=f"demo-show-{i}",
                    promoter_email=f"promoter@{slugify(VENUES[venue][1])}.example")
        shows = shows_service.list()
        first = next(s for s in shows if s.status == "confirmed")
        sessions = app.api.select("advancing_sessions", {"select": "id", "show_id": f"eq.{first.id}", "limit": "1"})
        if sessions:
            code = app.api.rpc("rotate_access_code", {"session_id": sessions[0]["id"]})
            session_id = sessions[0]["id"]
        else:
            code = app.api.rpc("create_advancing_session", {"show_id": first.id})
            session_id = code["session_id"]
    return DemoResult(
        email=DEMO_EMAIL, password=DEMO_PASSWORD, profile=DEMO_PROFILE, org_slug=org.slug, previous_profile=previous,
        venues=len(venues_service.list()), shows=len(shows), session_id=session_id,
        access_code=code["access_code"], code_expires_at=str(code.get("expires_at")), created=created,
    )
