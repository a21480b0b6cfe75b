"""Access codes: format and entropy source, uniqueness, hashing only, expiry, rotation, the throttle, and the atomic
creation of a session."""

from __future__ import annotations

import re

import psycopg
import pytest

from personas import call, create_user, enter, join, request

CODE_SHAPE = re.compile(r"^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$")


@pytest.fixture
def advance(conn, new_org, show_of):
    """A fresh organization with a show and an advancing session: dict(org, owner, show, session, code)."""
    org, owner = new_org
    show = show_of(org, owner)
    created = call(conn, owner, "select create_advancing_session(%s)", (show,))[0]
    return {"org": org, "owner": owner, "show": show, "session": created["session_id"],
            "code": created["access_code"], "expires_at": created["expires_at"]}


def venue_guest(conn) -> str:
    return create_user(conn, anonymous=True)


def claim(conn, user: str, code: str):
    """claim_access_code as `user`, committed; returns (result, response.status GUC)."""
    with request(conn, user, anonymous=True, commit=True):
        result = conn.execute("select claim_access_code(%s)", (code,)).fetchone()[0]
        status = conn.execute("select current_setting('response.status', true)").fetchone()[0]
    return result, status


def can_read_session(conn, user: str, session: str) -> bool:
    with request(conn, user, anonymous=True):
        return conn.execute("select count(*) from hospitality where session_id = %s", (session,)).fetchone()[0] == 1


def test_code_shape_and_expiry(advance):
    assert CODE_SHAPE.match(advance["code"]), advance["code"]
    assert not set(advance["code"]) & set("01OIL")


def test_code_stored_only_as_hash(conn, advance):
    stored = conn.execute("select code_hash from private.access_codes where session_id = %s",
                          (advance["session"],)).fetchone()[0]
    assert len(stored) == 32
    assert advance["code"].encode() not in stored
    assert advance["code"].replace("-", "") not in str(conn.execute(
        "select to_jsonb(s) from advancing_sessions s where id = %s", (advance["session"],)).fetchone()[0])


def test_api_roles_cannot_read_hashes(conn, advance):
    with request(conn, advance["owner"]):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from private.access_codes")


def test_claim_admits_guest_until_expiry_and_code_is_case_and_dash_insensitive(conn, advance):
    guest = venue_guest(conn)
    assert not can_read_session(conn, guest, advance["session"])
    sloppy = advance["code"].lower().replace("-", " ")
    result, status = claim(conn, guest, sloppy)
    assert status in (None, "")
    assert result["session_id"] == advance["session"]
    assert result["expires_at"] == advance["expires_at"]
    assert can_read_session(conn, guest, advance["session"])


def test_verify_does_not_admit(conn, advance):
    guest = venue_guest(conn)
    result = call(conn, guest, "select verify_access_code(%s)", (advance["code"],), anonymous=True)[0]
    assert result["valid"] is True
    assert result["session_id"] == advance["session"]
    assert result["venue"]["city"] == "Berlin"
    assert not can_read_session(conn, guest, advance["session"])
    wrong = call(conn, guest, "select verify_access_code('AAAA-BBBB-CCCC')", anonymous=True)[0]
    assert wrong == {"valid": False, "reason": "invalid"}


def test_wrong_code_answers_404_and_is_recorded(conn, advance):
    guest = venue_guest(conn)
    result, status = claim(conn, guest, "ZZZZ-ZZZZ-ZZZZ")
    assert status == "404"
    assert result["code"] == "PT404" and result["message"] == "access code is not valid"
    recorded = conn.execute("select count(*) from private.code_attempts where user_id = %s", (guest,)).fetchone()[0]
    assert recorded == 1  # the wrong attempt survived the request


def test_expired_code_is_refused(conn, advance):
    conn.execute("update private.access_codes set expires_at = now() - interval '1 second' where session_id = %s",
                 (advance["session"],))
    guest = venue_guest(conn)
    result, status = claim(conn, guest, advance["code"])
    assert status == "404" and result["message"] == "access code has expired"
    assert not can_read_session(conn, guest, advance["session"])


def test_expired_admission_ends_access(conn, advance):
    guest = venue_guest(conn)
    claim(conn, guest, advance["code"])
    conn.execute("update advancing_guests set expires_at = now() - interval '1 second' "
                 "where session_id = %s and user_id = %s", (advance["session"], guest))
    assert not can_read_session(conn, guest, advance["session"])


def test_rotation_invalidates_old_code_and_admissions(conn, advance):
    guest = venue_guest(conn)
    claim(conn, guest, advance["code"])
    assert can_read_session(conn, guest, advance["session"])
    rotated = call(conn, advance["owner"], "select rotate_access_code(%s)", (advance["session"],))[0]
    assert rotated["access_code"] != advance["code"] and CODE_SHAPE.match(rotated["access_code"])
    assert not can_read_session(conn, guest, advance["session"])
    newcomer = venue_guest(conn)
    result, status = claim(conn, newcomer, advance["code"])
    # The replaced code admits nobody and says why (HTTP 410), so the venue asks for the current one.
    assert status == "410" and result["code"] == "PT410" and "replaced by a newer one" in result["message"]
    assert not can_read_session(conn, newcomer, advance["session"])
    result, status = claim(conn, newcomer, rotated["access_code"])
    assert result["session_id"] == advance["session"]
    rotated_at = conn.execute("select code_rotated_at from advancing_sessions where id = %s",
                              (advance["session"],)).fetchone()[0]
    assert rotated_at is not None


def test_only_admins_rotate(conn, advance):
    member = create_user(conn, "m-" + advance["org"][:8] + "@example.test")
    join(conn, advance["org"], advance["owner"], member, "m-" + advance["org"][:8] + "@example.test")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an organization admin or above"):
        call(conn, member, "select rotate_access_code(%s)", (advance["session"],))


def test_throttle_after_five_wrong_codes(conn, advance):
    guest = venue_guest(conn)
    for i in range(5):
        result, status = claim(conn, guest, f"WRNG-CODE-{i + 2:04d}")
        assert status == "404"
    with pytest.raises(psycopg.Error, match="too many attempts") as refused:
        claim(conn, guest, advance["code"])  # even the right code, for a minute
    assert refused.value.sqlstate == "PT429"
    with pytest.raises(psycopg.Error, match="too many attempts"):
        call(conn, guest, "select verify_access_code(%s)", (advance["code"],), anonymous=True)
    # A minute later the user may try again.
    conn.execute("update private.code_attempts set attempted_at = attempted_at - interval '61 seconds' "
                 "where user_id = %s", (guest,))
    result, status = claim(conn, guest, advance["code"])
    assert result["session_id"] == advance["session"]


def test_throttle_is_per_user(conn, advance):
    noisy, calm = venue_guest(conn), venue_guest(conn)
    for i in range(5):
        claim(conn, noisy, f"WRNG-CODE-{i + 2:04d}")
    result, _ = claim(conn, calm, advance["code"])
    assert result["session_id"] == advance["session"]


def test_anon_role_cannot_use_codes(conn, advance):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        call(conn, None, "select claim_access_code(%s)", (advance["code"],))


def test_codes_unique_across_10000_sessions(conn, new_org, show_of):
    org, owner = new_org
    show = show_of(org, owner)
    with request(conn, owner):
        total, distinct, shaped = conn.execute(
            "select count(*), count(distinct c), count(*) filter (where c ~ '^[A-HJKMNP-Z2-9]{4}(-[A-HJKMNP-Z2-9]{4}){2}$') "
            "from (select create_advancing_session(%s) ->> 'access_code' as c from generate_series(1, 10000)) x",
            (show,)).fetchone()
        conn.execute("reset role")
        hashes = conn.execute("select count(distinct a.code_hash) from private.access_codes a "
                              "join advancing_sessions s on s.id = a.session_id where s.show_id = %s",
                              (show,)).fetchone()[0]
    assert (total, distinct, shaped) == (10000, 10000, 10000)
    assert hashes == 10000


def test_create_session_is_atomic(conn, advance):
    """A failure after the session row was written (here: on the first section insert) leaves nothing behind."""
    show, owner = advance["show"], advance["owner"]
    before = conn.execute(
        "select (select count(*) from advancing_sessions where show_id = %(s)s),"
        " (select count(*) from private.access_codes a join advancing_sessions x on x.id = a.session_id"
        "  where x.show_id = %(s)s),"
        " (select count(*) from activity_log where org_id = %(o)s)", {"s": show, "o": advance["org"]}).fetchone()
    with conn.transaction():
        conn.execute("create function pg_temp.fail_section() returns trigger language plpgsql as "
                     "$$ begin raise exception 'section insert failed'; end $$")
        conn.execute("create trigger fail_section before insert on hospitality "
                     "for each row execute function pg_temp.fail_section()")
        try:
            with pytest.raises(psycopg.errors.RaiseException, match="section insert failed"):
                call(conn, owner, "select create_advancing_session(%s)", (show,), commit=False)
            after = conn.execute(
                "select (select count(*) from advancing_sessions where show_id = %(s)s),"
                " (select count(*) from private.access_codes a join advancing_sessions x on x.id = a.session_id"
                "  where x.show_id = %(s)s),"
                " (select count(*) from activity_log where org_id = %(o)s)",
                {"s": show, "o": advance["org"]}).fetchone()
        finally:
            raise psycopg.Rollback()
    assert after == before
    assert before[0] == 1  # the fixture's own session is there, so the count would have moved


def test_expires_in_is_validated(conn, advance):
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="expires_in must be between 1 minute and 365 days"):
        call(conn, advance["owner"], "select create_advancing_session(%s, interval '400 days')", (advance["show"],))
    short = call(conn, advance["owner"], "select create_advancing_session(%s, interval '2 hours')",
                 (advance["show"],))[0]
    assert short["expires_at"] < advance["expires_at"]


def test_unknown_show_is_404(conn, advance):
    with pytest.raises(psycopg.Error, match=r"show 00000000-0000-0000-0000-000000000000 not found") as err:
        call(conn, advance["owner"], "select create_advancing_session('00000000-0000-0000-0000-000000000000')")
    assert err.value.sqlstate == "PT404"
