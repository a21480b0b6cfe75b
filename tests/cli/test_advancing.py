"""The advancing story with two real clients against the local stack: the tour manager (CLI) opens an advance, a
venue guest joins with the code (CLI in its own ONCORE_HOME, and supabase-py), sets guest_count = 15, the tour
manager reads 15, and the exported PDF holds 15 and the venue's name in Japanese."""

from __future__ import annotations

import io

import psycopg
import pypdf
import pytest
from supabase import create_client

from tests.cli.conftest import one_line_error

VENUE_NAME = "渋谷クラブクアトロ"


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


@pytest.fixture
def tokyo(oncore, org, unique) -> dict:
    venue = oncore("venues", "create", f"{VENUE_NAME} {unique}", "--city", "東京", "--country", "JP",
                   "--timezone", "Asia/Tokyo", "--address", "宇田川町32-13", "--json")
    assert venue.exit_code == 0, venue
    show = oncore("shows", "create", "--date", "2026-05-01", "--venue", venue.json["id"], "--status", "confirmed",
                  "--load-in", "14:00", "--doors", "18:30", "--set-time", "20:00", "--curfew", "00:30", "--json")
    assert show.exit_code == 0, show
    return show.json


@pytest.fixture
def session(oncore, tokyo) -> dict:
    created = oncore("advancing", "create", tokyo["id"], "--json")
    assert created.exit_code == 0, created
    return created.json


@pytest.fixture
def guest_home(tmp_path):
    path = tmp_path / "venue-home"
    path.mkdir()
    return path


@pytest.fixture
def venue_cli(oncore, guest_home, stack):
    """`oncore` as the venue's production manager: another ONCORE_HOME, no account."""

    def run(*args, input=None):
        return oncore(*args, input=input, env={"ONCORE_HOME": str(guest_home)})

    run.join = lambda code, *extra: run("advancing", "join", code, "--url", stack.api_url, "--anon-key",
                                        stack.anon_key, *extra)
    return run


def test_story_guest_sets_guest_count_the_tour_reads_it(oncore, venue_cli, stack, tokyo, tmp_path):
    created = oncore("advancing", "create", f"2026-05-01@{VENUE_NAME}", "--title", "Advance")
    assert created.exit_code == 0, created
    code = created.stdout.strip()
    assert len(code) == 14 and code.count("-") == 2  # the code, alone on stdout, shown once
    assert "shown only this once" in created.stderr and "30 days" in created.stderr
    assert f"oncore advancing join {code}" in created.stderr
    sessions = oncore("advancing", "list", "--json").json
    assert len(sessions) == 1 and sessions[0]["status"] == "draft" and sessions[0]["show_id"] == tokyo["id"]
    session_id = sessions[0]["id"]

    joined = venue_cli.join(code.lower().replace("-", " "))  # typed by hand: case and separators do not matter
    assert joined.exit_code == 0, joined
    assert joined.stdout.strip() == session_id
    profile = f"venue-{code[:4].lower()}"
    assert f"profile {profile}" in joined.stderr

    changed = venue_cli("--profile", profile, "advancing", "set", session_id[:8], "hospitality.guest_count=15",
                        'technical.power=3-phase 63A')
    assert changed.exit_code == 0, changed
    guest_view = venue_cli("--profile", profile, "advancing", "show", session_id[:8], "--json").json
    assert guest_view["hospitality"]["guest_count"] == 15

    # The tour manager reads 15, sees who changed it, and the session moved on to in_progress.
    shown = oncore("advancing", "show", "2026-05-01", "--json")
    assert shown.exit_code == 0, shown
    sheet = shown.json
    assert sheet["hospitality"]["guest_count"] == 15
    assert sheet["technical"]["power"] == {"summary": "3-phase 63A"}
    assert sheet["session"]["status"] == "in_progress" and sheet["timezone"] == "Asia/Tokyo"
    assert sheet["last_changes"]["hospitality"]["by"] == "venue guest"
    assert "guest_count" in sheet["last_changes"]["hospitality"]["fields"]
    table = oncore("advancing", "show", session_id[:8]).stdout
    assert "hospitality\tsubmitted" not in table and "venue guest" in table and "guest_count=15" in table

    # supabase-py as a second venue client: anonymous sign-in, claim, read the sheet the CLI wrote.
    guest = create_client(stack.api_url, stack.anon_key)
    guest.auth.sign_in_anonymously()
    claimed = guest.rpc("claim_access_code", {"code": code}).execute().data
    assert claimed["session_id"] == session_id
    assert guest.rpc("get_advance_sheet", {"session_id": session_id}).execute().data["hospitality"]["guest_count"] == 15

    # The exported advance sheet holds 15 and the venue's name in Japanese; times are Tokyo's.
    target = tmp_path / "advance.pdf"
    exported = oncore("advancing", "export", session_id[:8], "--pdf", str(target))
    assert exported.exit_code == 0, exported
    text, pages = pdf_text(target.read_bytes())
    assert VENUE_NAME in text and "Guest count" in text and "15" in text
    assert "Asia/Tokyo" in text and "18:30" in text and "00:30" in text and "+1 day" in text
    assert pages >= 1
    history = oncore("advancing", "history", session_id[:8], "--json").json
    assert [e["action"] for e in history][:1] == ["create_advancing_session"]
    assert any(e["action"] == "submit_hospitality" and e["actor_kind"] == "venue_guest" for e in history)


def test_guest_is_limited_to_its_session(oncore, venue_cli, stack, session, tokyo, venue, db_url):
    other_show = oncore("shows", "create", "--date", "2026-05-02", "--venue", venue["id"], "--json").json
    other = oncore("advancing", "create", other_show["id"], "--json").json
    joined = venue_cli.join(session["access_code"], "--json")
    assert joined.exit_code == 0, joined
    profile = joined.json["profile"]
    assert [s["id"] for s in venue_cli("--profile", profile, "advancing", "list", "--json").json] == \
        [session["session_id"]]
    one_line_error(venue_cli("--profile", profile, "advancing", "show", other["session_id"]), 3, "not found")
    one_line_error(venue_cli("--profile", profile, "advancing", "set", other["session_id"],
                             "hospitality.guest_count=3"), 3, "not found")
    one_line_error(venue_cli("--profile", profile, "advancing", "status", session["session_id"], "confirmed"), 4)
    one_line_error(venue_cli("--profile", profile, "advancing", "delete", session["session_id"], "--yes"), 4)
    with psycopg.connect(db_url) as conn:  # the other session really was untouched
        count = conn.execute("select guest_count from public.hospitality where session_id = %s",
                             (other["session_id"],)).fetchone()[0]
    assert count is None

    guest = create_client(stack.api_url, stack.anon_key)
    guest.auth.sign_in_anonymously()
    guest.rpc("claim_access_code", {"code": session["access_code"]}).execute()
    assert guest.table("advancing_sessions").select("id").execute().data == [{"id": session["session_id"]}]
    assert guest.rpc("get_advance_sheet", {"session_id": session["session_id"]}).execute().data
    written = guest.table("shows").update({"notes": "guest was here"}).eq("id", tokyo["id"]).execute().data
    assert written == []  # RLS: a guest reads its show but cannot write it
    assert oncore("shows", "show", tokyo["id"], "--json").json["notes"] is None


def test_viewer_cannot_change_a_section(oncore, session, org, make_user, login):
    viewer = make_user("viewer")
    added = oncore("members", "add", viewer.email, "--role", "viewer")
    assert added.exit_code == 0, added
    login(viewer, profile="viewer")
    accepted = oncore("--profile", "viewer", "orgs", "accept", org["slug"])
    assert accepted.exit_code == 0, accepted
    readable = oncore("--profile", "viewer", "advancing", "show", session["session_id"], "--json")
    assert readable.exit_code == 0, readable
    one_line_error(oncore("--profile", "viewer", "advancing", "set", session["session_id"],
                          "hospitality.guest_count=9"), 4, "permission denied")
    one_line_error(oncore("--profile", "viewer", "advancing", "code", "rotate", session["session_id"]), 4)
    assert oncore("advancing", "show", session["session_id"], "--json").json["hospitality"]["guest_count"] is None


def test_join_errors_each_have_their_line_and_exit_code(oncore, venue_cli, session, db_url, user):
    one_line_error(venue_cli.join("ABC"), 2, "not an access code")
    # The tour manager's own login is never replaced by a guest session.
    one_line_error(oncore("--profile", "default", "advancing", "join", session["access_code"]), 2,
                   f"logged in as {user.email}")
    assert oncore("whoami", "--json").json["email"] == user.email
    one_line_error(venue_cli.join("AAAA-BBBB-CCCC"), 3, "wrong access code")

    old = session["access_code"]
    rotated = oncore("advancing", "code", "rotate", session["session_id"], "--expires", "2d")
    assert rotated.exit_code == 0, rotated
    new = rotated.stdout.strip()
    assert new != old and "2 days" in rotated.stderr
    one_line_error(venue_cli.join(old), 5, "replaced by a newer one")

    joined = venue_cli.join(new, "--json")
    assert joined.exit_code == 0, joined
    profile = joined.json["profile"]
    with psycopg.connect(db_url) as conn:
        conn.execute("update private.access_codes set expires_at = now() - interval '1 second' "
                     "where session_id = %s", (session["session_id"],))
    # The same guest (its profile keeps the anonymous user) now meets an expired code, then the throttle.
    one_line_error(venue_cli("--profile", profile, "advancing", "join", new), 4, "expired")
    for _ in range(4):
        venue_cli("--profile", profile, "advancing", "join", "ZZZZ-ZZZZ-ZZZZ")
    one_line_error(venue_cli("--profile", profile, "advancing", "join", new), 1, "too many")


def test_set_validates_before_sending(oncore, session, tmp_path):
    sid = session["session_id"]
    one_line_error(oncore("advancing", "set", sid, "hospitality.guests=3"), 2,
                   "unknown hospitality field 'guests'", "guest_count", "guest_list", "hotel")
    one_line_error(oncore("advancing", "set", sid, "catering.meals=3"), 2, "unknown section 'catering'")
    one_line_error(oncore("advancing", "set", sid, "hospitality.guest_count=fifteen"), 2, "whole number")
    one_line_error(oncore("advancing", "set", sid, "hospitality.guest_count=-1"), 2, "whole number >= 0")
    one_line_error(oncore("advancing", "set", sid, "hospitality.status=done"), 2, '"open", "submitted"')
    one_line_error(oncore("advancing", "set", sid, "hospitality.guest_list=[1,"), 2, "bad JSON")
    one_line_error(oncore("advancing", "set", sid, "hospitality.guest_list={}"), 2, "must be a JSON list")
    one_line_error(oncore("advancing", "set", sid, "hospitality.guest_count"), 2, "section.field=value")
    # Nothing above reached the server: the history holds only the creation.
    assert [e["action"] for e in oncore("advancing", "history", sid, "--json").json] == ["create_advancing_session"]

    guests = tmp_path / "guests.yaml"
    guests.write_text("- name: Zoë Wójcik\n  plus_ones: 1\n- name: 高橋 健\n  plus_ones: 0\n", encoding="utf-8")
    done = oncore("advancing", "set", sid, f"hospitality.guest_list=@{guests}", "production.merch.soft_split=20",
                  "production.merch.seller=venue", "hospitality.notes=Runner at 12:30", "--json")
    assert done.exit_code == 0, done
    assert done.json["hospitality"]["guest_list"][1] == {"name": "高橋 健", "plus_ones": 0}
    assert done.json["production"]["merch"] == {"soft_split": 20, "seller": "venue"}
    again = oncore("advancing", "set", sid, "production.merch.hard_split=10", "--json").json
    assert again["production"]["merch"] == {"soft_split": 20, "seller": "venue", "hard_split": 10}
    one_line_error(oncore("advancing", "set", sid, "hospitality.guest_list.name=x"), 2, "is a list")


def test_status_list_history_delete(oncore, session, tokyo):
    sid = session["session_id"]
    one_line_error(oncore("advancing", "status", sid, "done"), 2, "unknown status 'done'")
    assert oncore("advancing", "status", sid, "sent").exit_code == 0
    assert [s["id"] for s in oncore("advancing", "list", "--status", "sent", "--json").json] == [sid]
    assert oncore("advancing", "list", "--status", "draft", "--json").json == []
    assert [s["id"] for s in oncore("advancing", "list", "--show", tokyo["id"], "--json").json] == [sid]
    timeline = oncore("advancing", "history", sid[:8])
    assert "you" in timeline.stdout and "status: draft → sent" in timeline.stdout
    one_line_error(oncore("adv", "show", "no-such-session"), 3, "not found")
    second = oncore("advancing", "create", tokyo["id"], "--json").json
    one_line_error(oncore("adv", "show", "2026-05-01"), 2, "matches 2 advancing sessions")
    one_line_error(oncore("advancing", "delete", second["session_id"]), 2, "--yes")
    assert oncore("advancing", "delete", second["session_id"], "--yes").exit_code == 0
    assert oncore("adv", "show", "2026-05-01", "--json").json["session"]["id"] == sid
    one_line_error(oncore("advancing", "create", tokyo["id"], "--expires", "forever"), 2, "bad --expires")


def test_show_json_imports_neither_reportlab_nor_the_stack(oncore, session):
    import os
    import subprocess
    import sys

    env = {**os.environ, "ONCORE_ACCESS_TOKEN": oncore("auth", "token").stdout.strip()}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "oncore_cli", "advancing", "show",
                           session["session_id"][:8], "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert '"guest_count": null' in proc.stdout or '"guest_count":null' in proc.stdout
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "oncore_cli.services.advancing" in modules  # the check sees our own imports
    assert not {m for m in modules if m.startswith(("reportlab", "oncore_cli.local", "oncore_cli.pdf", "supabase"))}
