"""Storage policies on bucket `advancing`: paths are `<org_id>/<session_id>/<file>`; the session must belong to the
organization; a venue guest reaches only its own session's folder. (The persona matrix covers the allowed cases.)"""

from __future__ import annotations

import psycopg
import pytest

from personas import request


def upload(conn, user, name, anonymous=False, bucket="advancing") -> bool:
    with request(conn, user, anonymous=anonymous):
        try:
            with conn.transaction():
                conn.execute("insert into storage.objects (bucket_id, name) values (%s, %s)", (bucket, name))
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False


def test_bucket_is_private(conn):
    assert conn.execute("select public from storage.buckets where id = 'advancing'").fetchone() == (False,)


@pytest.mark.parametrize(("path", "allowed"), [
    ("{org}/{session}/rider.pdf", True),
    ("{org}/{session}/sub/rider.pdf", False),        # exactly two folders
    ("{org}/rider.pdf", False),
    ("{other_org}/{session}/rider.pdf", False),      # session of another organization
    ("{org}/{bare_session}/rider.pdf", True),
    ("not-a-uuid/{session}/rider.pdf", False),
])
def test_member_paths(conn, world, path, allowed):
    name = path.format(org=world.org, other_org=world.other_org, session=world.session,
                       bare_session=world.bare_session)
    assert upload(conn, world.users["member"], name) is allowed


def test_guest_only_in_its_session(conn, world):
    guest = world.users["guest"]
    assert upload(conn, guest, f"{world.org}/{world.session}/dock-photo.jpg", anonymous=True)
    assert not upload(conn, guest, f"{world.org}/{world.bare_session}/dock-photo.jpg", anonymous=True)


def test_other_buckets_get_no_access_from_these_policies(conn, world):
    with conn.transaction():
        conn.execute("insert into storage.buckets (id, name) values ('elsewhere', 'elsewhere')")
        refused = not upload(conn, world.users["owner"], f"{world.org}/{world.session}/x.pdf", bucket="elsewhere")
        raise psycopg.Rollback()
    assert refused
