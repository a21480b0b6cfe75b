"""Row-level security: every persona × every table × select/insert/update/delete, each cell allowed or denied.

Targets are rows of organization A (see conftest.world). A select is allowed when the target row is visible; an
insert when it succeeds; an update or delete when it touches the target row. Denied writes must fail with 42501 or
touch no row; every cell runs in its own rolled-back transaction."""

from __future__ import annotations

import psycopg
import pytest

from personas import enter

PERSONAS = ["owner", "admin", "member", "viewer", "outsider", "anon", "guest", "stale_guest", "rotated_guest"]
ANONYMOUS = {"guest", "stale_guest", "rotated_guest"}

# Who may do what. Letters: o owner, a admin, m member, v viewer, x member of another org, n anon,
# g venue guest with a valid code, s venue guest whose admission expired, r venue guest admitted with a code that
# was rotated since.
EXPECTED = {
    #  table                 select    insert   update   delete
    "organizations":        ("oamv",   "",      "oa",    "o"),
    "org_members":          ("oamv",   "",      "oa",    "oa"),    # joining: accept_org_invitation() only
    "org_invitations":      ("oa",     "",      "",      "oa"),    # inviting: add_org_member() only
    "venues":               ("oamvg",  "oam",   "oam",   "oam"),
    "shows":                ("oamvg",  "oam",   "oam",   "oa"),    # this show has sessions: admins delete it
    "advancing_sessions":   ("oamvg",  "oa",    "oa",    "oa"),
    "hospitality":          ("oamvg",  "oa",    "oamg",  "oa"),
    "technical":            ("oamvg",  "oa",    "oamg",  "oa"),
    "production":           ("oamvg",  "oa",    "oamg",  "oa"),
    "advancing_guests":     ("oag",    "oa",    "oa",    "oa"),
    "activity_log":         ("oamvg",  "",      "",      ""),
    "subscriptions":        ("o",      "",      "",      ""),
    "storage.objects":      ("oamvg",  "oamg",  "oamg",  "oamg"),
}
LETTER = {"owner": "o", "admin": "a", "member": "m", "viewer": "v", "outsider": "x", "anon": "n",
          "guest": "g", "stale_guest": "s", "rotated_guest": "r"}
ACTIONS = ["select", "insert", "update", "delete"]
SECTIONS = ("hospitality", "technical", "production")


def statements(table: str, w) -> dict[str, tuple[str, tuple]]:
    """The statement per action for `table`, aimed at organization A's target row."""
    org, session = w.org, w.session
    if table == "organizations":
        key = ("id = %s", (org,))
        insert = ("insert into organizations (name, slug) values ('Sneaky', 'sneaky-' || md5(random()::text))", ())
        update_set = "name = name"
    elif table == "org_members":
        key = ("org_id = %s and user_id = %s", (org, w.extra))
        insert = ("insert into org_members (org_id, user_id, role) values (%s, %s, 'viewer')", (org, w.spare))
        update_set = "role = role"
    elif table == "org_invitations":
        key = ("org_id = %s and email like 'spare-%%'", (org,))
        insert = ("insert into org_invitations (org_id, email, role) values (%s, 'sneaky@example.test', 'owner')",
                  (org,))
        update_set = "role = role"
    elif table == "venues":
        key = ("id = %s", (w.venue,))
        insert = ("insert into venues (org_id, name, city) values (%s, 'New Hall', 'Bern')", (org,))
        update_set = "capacity = capacity"
    elif table == "shows":
        key = ("id = %s", (w.show,))
        insert = ("insert into shows (org_id, venue_id, date) values (%s, %s, '2027-04-01')", (org, w.venue))
        update_set = "status = status"
    elif table == "advancing_sessions":
        key = ("id = %s", (session,))
        insert = ("insert into advancing_sessions (org_id, show_id) values (%s, %s)", (org, w.show))
        update_set = "title = title"
    elif table in SECTIONS:
        key = ("session_id = %s", (session,))
        insert = (f"insert into {table} (session_id, org_id) values (%s, %s)", (w.bare_session, org))
        update_set = "notes = notes"
    elif table == "advancing_guests":
        key = ("session_id = %s and user_id = %s", (session, w.users["guest"]))
        insert = ("insert into advancing_guests (session_id, user_id, org_id, expires_at) "
                  "values (%s, %s, %s, now() + interval '1 day')", (session, w.spare, org))
        update_set = "expires_at = expires_at"
    elif table == "activity_log":
        key = ("org_id = %s", (org,))
        insert = ("insert into activity_log (org_id, actor_kind, action, entity) "
                  "values (%s, 'member', 'forged', 'shows')", (org,))
        update_set = "action = action"
    elif table == "subscriptions":
        key = ("org_id = %s", (org,))
        insert = ("insert into subscriptions (org_id, status) values (%s, 'active')", (org,))
        update_set = "status = status"
    elif table == "storage.objects":
        key = ("bucket_id = 'advancing' and name = %s", (w.object_name,))
        insert = ("insert into storage.objects (bucket_id, name) values ('advancing', %s)",
                  (f"{org}/{session}/input-list.pdf",))
        update_set = "metadata = metadata"
    else:  # pragma: no cover
        raise KeyError(table)
    where, params = key
    return {
        "select": (f"select 1 from {table} where {where}", params),
        "insert": insert,
        "update": (f"update {table} set {update_set} where {where}", params),
        "delete": (f"delete from {table} where {where}", params),
    }


def attempt(conn, action: str, sql: str, params: tuple) -> bool:
    """Run one statement; True if it did its work, False if RLS or privileges refused it."""
    try:
        with conn.transaction():
            cur = conn.execute(sql, params)
            if action == "select":
                return cur.fetchone() is not None
            if action == "insert":
                return True
            return cur.rowcount >= 1
    except psycopg.errors.InsufficientPrivilege:
        return False


CELLS = [(table, persona, action) for table in EXPECTED for persona in PERSONAS for action in ACTIONS]


@pytest.mark.parametrize(("table", "persona", "action"), CELLS,
                         ids=[f"{t}-{p}-{a}" for t, p, a in CELLS])
def test_cell(conn, world, table, persona, action):
    expected = LETTER[persona] in EXPECTED[table][ACTIONS.index(action)]
    sql, params = statements(table, world)[action]
    with conn.transaction():
        enter(conn, world.users[persona], anonymous=persona in ANONYMOUS)
        if table.startswith("storage."):   # as the Storage API runs it: direct deletes are refused otherwise
            conn.execute("select set_config('storage.allow_delete_query', 'true', true)")
        allowed = attempt(conn, action, sql, params)
        raise psycopg.Rollback()
    assert allowed == expected, (
        f"{persona} {action} on {table}: expected {'allowed' if expected else 'denied'}, "
        f"got {'allowed' if allowed else 'denied'}")


def test_member_may_leave_but_not_remove_others(conn, world):
    """Anyone may delete their own membership; only admins delete others' (the matrix covers the latter)."""
    with conn.transaction():
        enter(conn, world.users["viewer"])
        cur = conn.execute("delete from org_members where org_id = %s and user_id = %s",
                           (world.org, world.users["viewer"]))
        assert cur.rowcount == 1
        raise psycopg.Rollback()


def test_outsider_sees_nothing_of_org_a(conn, world):
    tables = [t for t in EXPECTED if t != "storage.objects"]
    with conn.transaction():
        enter(conn, world.users["outsider"])
        counts = {t: conn.execute(f"select count(*) from {t} where org_id = %s", (world.org,)).fetchone()[0]
                  for t in tables if t != "organizations"}
        raise psycopg.Rollback()
    assert counts == {t: 0 for t in tables if t != "organizations"}
