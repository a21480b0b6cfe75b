"""submit_hospitality / submit_technical / submit_production, get_advance_sheet, and the activity they leave."""

from __future__ import annotations

import json

import psycopg
import pytest

from personas import call, create_user, join


@pytest.fixture
def advance(conn, new_org, show_of, unique):
    """A session with a claimed venue guest and a viewer: dict(org, owner, viewer, guest, show, session)."""
    org, owner = new_org
    show = show_of(org, owner)
    conn.execute("update shows set doors_at = '2027-05-01T19:00:00+02', curfew_at = '2027-05-01T23:00:00+02', "
                 "schedule = %s, contacts = %s where id = %s",
                 (json.dumps([{"label": "Soundcheck", "at": "2027-05-01T17:30:00+02:00", "note": "headliner"}]),
                  json.dumps([{"role": "promoter", "name": "Pia", "email": "pia@example.test"}]), show))
    created = call(conn, owner, "select create_advancing_session(%s)", (show,))[0]
    guest = create_user(conn, anonymous=True)
    call(conn, guest, "select claim_access_code(%s)", (created["access_code"],), anonymous=True)
    viewer = create_user(conn, f"v-{unique}@example.test")
    join(conn, org, owner, viewer, f"v-{unique}@example.test", "viewer")
    return {"org": org, "owner": owner, "viewer": viewer, "guest": guest, "show": show,
            "session": created["session_id"]}


def submit(conn, user, section, session, data, anonymous=False):
    return call(conn, user, f"select submit_{section}(%s, %s)", (session, json.dumps(data)), anonymous=anonymous)[0]


def test_partial_update_keeps_other_fields(conn, advance):
    s = advance["session"]
    submit(conn, advance["guest"], "hospitality", s, {"guest_count": 12, "notes": "no glass on stage"}, True)
    row = submit(conn, advance["guest"], "hospitality", s,
                 {"catering": {"buyout": {"amount": 25, "currency": "EUR"}}}, True)
    assert row["guest_count"] == 12 and row["notes"] == "no glass on stage"
    assert row["catering"] == {"buyout": {"amount": 25, "currency": "EUR"}}
    assert row["updated_by"] == advance["guest"]


def test_unknown_fields_are_named(conn, advance):
    with pytest.raises(psycopg.errors.InvalidParameterValue,
                       match=r"unknown technical field\(s\): colour, wattage") as err:
        submit(conn, advance["owner"], "technical", advance["session"], {"pa": {}, "wattage": 5, "colour": "red"})
    assert "allowed: backline" in err.value.diag.message_hint


@pytest.mark.parametrize(("section", "data", "message"), [
    ("hospitality", {"guest_count": -1}, "guest_count must be a whole number >= 0"),
    ("hospitality", {"guest_count": 2.5}, "guest_count must be a whole number >= 0"),
    ("hospitality", {"guest_list": {"name": "x"}}, "guest_list must be a JSON array"),
    ("production", {"settlement": "cash"}, "settlement must be a JSON object"),
    ("technical", {"status": "done"}, 'status must be one of "open", "submitted", "confirmed"'),
    ("production", {"notes": 5}, "notes must be text or null"),
])
def test_values_are_validated(conn, advance, section, data, message):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        submit(conn, advance["owner"], section, advance["session"], data)


def test_data_must_be_an_object(conn, advance):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="data must be a JSON object"):
        submit(conn, advance["owner"], "production", advance["session"], [1, 2])


def test_guest_submits_but_cannot_confirm(conn, advance):
    row = submit(conn, advance["guest"], "production", advance["session"], {"status": "submitted"}, True)
    assert row["status"] == "submitted"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an organization member can confirm"):
        submit(conn, advance["guest"], "production", advance["session"], {"status": "confirmed"}, True)
    row = submit(conn, advance["owner"], "production", advance["session"], {"status": "confirmed"})
    assert row["status"] == "confirmed"


def test_viewer_cannot_submit(conn, advance):
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="you may read but not edit the technical section"):
        submit(conn, advance["viewer"], "technical", advance["session"], {"notes": "x"})


def test_stranger_gets_404(conn, advance, unique):
    stranger = create_user(conn, f"str-{unique}@example.test")
    with pytest.raises(psycopg.Error, match="advancing session .* not found") as err:
        submit(conn, stranger, "hospitality", advance["session"], {"notes": "x"})
    assert err.value.sqlstate == "PT404"
    with pytest.raises(psycopg.Error, match="not found"):
        call(conn, stranger, "select get_advance_sheet(%s)", (advance["session"],))


def test_submission_is_logged_with_old_and_new(conn, advance):
    submit(conn, advance["guest"], "hospitality", advance["session"], {"guest_count": 3}, True)
    submit(conn, advance["owner"], "hospitality", advance["session"], {"guest_count": 5, "notes": None})
    rows = conn.execute(
        "select action, entity, actor_id, actor_kind, changes from activity_log "
        "where session_id = %s and entity = 'hospitality' order by id", (advance["session"],)).fetchall()
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [
        ("submit_hospitality", "hospitality", advance["guest"], "venue_guest"),
        ("submit_hospitality", "hospitality", advance["owner"], "member"),
    ]
    assert rows[0][4] == {"guest_count": {"old": None, "new": 3}}
    assert rows[1][4] == {"guest_count": {"old": 3, "new": 5}}  # notes stayed null: not a change


def test_session_creation_and_rotation_are_logged(conn, advance):
    call(conn, advance["owner"], "select rotate_access_code(%s)", (advance["session"],))
    rows = conn.execute("select action, entity, actor_kind, changes from activity_log "
                        "where session_id = %s and entity = 'advancing_sessions' order by id",
                        (advance["session"],)).fetchall()
    assert [r[0] for r in rows] == ["create_advancing_session", "rotate_access_code"]
    assert set(rows[1][3]) == {"code_expires_at", "code_rotated_at"}
    claimed = conn.execute("select actor_kind from activity_log where session_id = %s and action = "
                           "'claim_access_code'", (advance["session"],)).fetchall()
    assert claimed == [("venue_guest",)]


def test_activity_log_is_append_only_even_for_service_role(conn, advance):
    with conn.transaction():
        conn.execute("set local role service_role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update activity_log set action = 'x' where org_id = %s", (advance["org"],))
        raise psycopg.Rollback()
    with conn.transaction():
        conn.execute("set local role service_role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from activity_log where org_id = %s", (advance["org"],))
        raise psycopg.Rollback()


def test_advance_sheet_for_the_venue_guest(conn, advance):
    submit(conn, advance["owner"], "technical", advance["session"], {"stage": {"width_m": 12, "depth_m": 8}})
    sheet = call(conn, advance["guest"], "select get_advance_sheet(%s)", (advance["session"],), anonymous=True)[0]
    assert sheet["version"] == 1
    assert sheet["timezone"] == "Europe/Berlin"
    assert sheet["session"]["id"] == advance["session"] and sheet["session"]["status"] == "draft"
    assert sheet["organization"]["name"].startswith("Org ")
    assert sheet["show"]["id"] == advance["show"] and sheet["venue"]["city"] == "Berlin"
    assert [(i["label"], i["local_time"]) for i in sheet["schedule"]] == [
        ("Soundcheck", "17:30"), ("Doors", "19:00"), ("Curfew", "23:00")]
    assert sheet["schedule"][0]["note"] == "headliner"
    assert sheet["contacts"] == [{"role": "promoter", "name": "Pia", "email": "pia@example.test"}]
    assert sheet["technical"]["stage"] == {"width_m": 12, "depth_m": 8}
    assert {"hospitality", "production"} <= set(sheet)


def test_guest_submission_moves_session_in_progress(conn, advance):
    status = "select status from advancing_sessions where id = %s"
    submit(conn, advance["owner"], "technical", advance["session"], {"notes": "from the tour"})
    assert conn.execute(status, (advance["session"],)).fetchone() == ("draft",)
    submit(conn, advance["guest"], "technical", advance["session"], {"notes": "from the venue"}, True)
    assert conn.execute(status, (advance["session"],)).fetchone() == ("in_progress",)
