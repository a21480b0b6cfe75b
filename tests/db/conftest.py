"""Database fixtures: one superuser connection, and one committed "world" (an organization with a show, an advancing
session, its personas and a venue guest, and a second organization) shared by the RLS tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg.rows import tuple_row

from personas import ANON, call, create_user, join


@pytest.fixture(scope="session")
def conn(db_url):
    """One superuser connection for the whole db test run (autocommit; requests open their own transactions)."""
    with psycopg.connect(db_url, autocommit=True, row_factory=tuple_row) as c:
        yield c


@dataclass
class World:
    org: str
    other_org: str
    venue: str
    show: str
    session: str
    bare_session: str  # a session without sections (insert tests)
    code: str
    object_name: str
    users: dict[str, str | None] = field(default_factory=dict)
    spare: str = ""      # not in any organization (invited to A): the user admins try to add
    extra: str = ""      # a viewer of org whose membership row is the update/delete target


@pytest.fixture(scope="session")
def world(conn) -> World:
    """Organization A (owner, admin, member, viewer, a venue, a show, an advancing session with a venue guest) and
    organization B (the outsider's). Committed once; every test that changes it rolls back."""
    tag = uuid.uuid4().hex[:8]
    u = {name: create_user(conn, f"{name}-{tag}@example.test")
         for name in ("owner", "admin", "member", "viewer", "outsider")}
    u["guest"] = create_user(conn, anonymous=True)
    u["stale_guest"] = create_user(conn, anonymous=True)
    u["rotated_guest"] = create_user(conn, anonymous=True)
    u["anon"] = ANON
    spare = create_user(conn, f"spare-{tag}@example.test")
    extra = create_user(conn, f"extra-{tag}@example.test")

    org = call(conn, u["owner"], "select id from create_organization(%s, %s)", (f"Org A {tag}", f"a-{tag}"))[0]
    other = call(conn, u["outsider"], "select id from create_organization(%s, %s)", (f"Org B {tag}", f"b-{tag}"))[0]
    for name, role in (("admin", "admin"), ("member", "member"), ("viewer", "viewer")):
        join(conn, org, u["owner"], u[name], f"{name}-{tag}@example.test", role)
    join(conn, org, u["owner"], extra, f"extra-{tag}@example.test", "viewer")
    call(conn, u["owner"], "select add_org_member(%s, %s, 'viewer')", (org, f"spare-{tag}@example.test"))

    venue = call(conn, u["member"], "insert into venues (org_id, name, city, country, timezone, capacity) "
                 "values (%s, 'Gebäude 9', 'Köln', 'DE', 'Europe/Berlin', 450) returning id", (org,))[0]
    show = call(conn, u["member"], "insert into shows (org_id, venue_id, date, status) "
                "values (%s, %s, '2027-03-01', 'confirmed') returning id", (org, venue))[0]
    created = call(conn, u["admin"], "select create_advancing_session(%s)", (show,))[0]
    session = created["session_id"]
    # The rotated guest was admitted with the first code; rotating it ended that admission.
    first = call(conn, u["rotated_guest"], "select claim_access_code(%s)", (created["access_code"],), anonymous=True)
    assert first[0]["session_id"] == session
    code = call(conn, u["admin"], "select rotate_access_code(%s)", (session,))[0]["access_code"]
    bare = call(conn, u["admin"], "insert into advancing_sessions (org_id, show_id, title) values (%s, %s, 'bare') "
                "returning id", (org, show))[0]
    call(conn, u["guest"], "select claim_access_code(%s)", (code,), anonymous=True)
    # The stale guest was admitted once; its admission has run out.
    conn.execute("insert into advancing_guests (session_id, user_id, org_id, expires_at) "
                 "values (%s, %s, %s, now() - interval '1 minute')", (session, u["stale_guest"], org))
    conn.execute("insert into subscriptions (org_id, status, plan) values (%s, 'active', 'pro')", (org,))
    object_name = f"{org}/{session}/stage-plot.pdf"
    conn.execute("insert into storage.objects (bucket_id, name) values ('advancing', %s)", (object_name,))
    return World(org=str(org), other_org=str(other), venue=str(venue), show=str(show), session=session,
                 bare_session=str(bare), code=code, object_name=object_name, users=u, spare=spare, extra=extra)


@pytest.fixture
def new_org(conn, unique):
    """A fresh organization owned by a fresh user: (org_id, owner_id)."""
    owner = create_user(conn, f"owner-{unique}@example.test")
    org = call(conn, owner, "select id from create_organization(%s, %s)", (f"Org {unique}", f"org-{unique}"))[0]
    return str(org), owner


@pytest.fixture
def show_of(conn):
    """Factory: a show (with a venue) in `org`, created by `user`; returns the show id."""
    def make(org: str, user: str, **venue) -> str:
        fields = {"name": "Hall", "city": "Berlin", "country": "DE", "timezone": "Europe/Berlin", **venue}
        venue_id = call(conn, user, "insert into venues (org_id, name, city, country, timezone) "
                        "values (%s, %s, %s, %s, %s) returning id",
                        (org, fields["name"], fields["city"], fields["country"], fields["timezone"]))[0]
        return str(call(conn, user, "insert into shows (org_id, venue_id, date) values (%s, %s, '2027-05-01') "
                        "returning id", (org, venue_id))[0])
    return make
