"""create_organization and the member RPCs: atomic ownership, clear errors, and the owner rules."""

from __future__ import annotations

import psycopg
import pytest

from personas import call, call_all, create_user, join


def add_member(conn, org: str, by: str, email: str, role: str = "member"):
    return call(conn, by, "select * from add_org_member(%s, %s, %s)", (org, email, role))


def test_creator_becomes_owner(conn, unique):
    user = create_user(conn, f"c-{unique}@example.test")
    org_id, name, slug, created_by = call(
        conn, user, "select id, name, slug, created_by from create_organization(%s, %s)",
        (f"  The Band {unique} ", f"band-{unique}"))
    assert (name, slug, str(created_by)) == (f"The Band {unique}", f"band-{unique}", user)
    role = conn.execute("select role from org_members where org_id = %s and user_id = %s", (org_id, user)).fetchone()
    assert role == ("owner",)


@pytest.mark.parametrize(("name", "slug", "message"), [
    ("Band", "Has Caps", 'slug "Has Caps" must be 1-63 lower-case letters'),
    ("Band", "-dash", 'slug "-dash" must be'),
    ("   ", "ok-slug", "name must not be empty"),
])
def test_bad_name_or_slug(conn, unique, name, slug, message):
    user = create_user(conn, f"c-{unique}@example.test")
    with pytest.raises(psycopg.errors.InvalidParameterValue, match=message):
        call(conn, user, "select create_organization(%s, %s)", (name, slug))


def test_taken_slug_is_a_conflict(conn, new_org, unique):
    org, owner = new_org
    slug = conn.execute("select slug from organizations where id = %s", (org,)).fetchone()[0]
    other = create_user(conn, f"o-{unique}@example.test")
    with pytest.raises(psycopg.errors.UniqueViolation, match=f'slug "{slug}" is already taken'):
        call(conn, other, "select create_organization('Copy', %s)", (slug,))


def test_venue_guest_and_anon_cannot_create(conn, unique):
    guest = create_user(conn, anonymous=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not as a venue guest"):
        call(conn, guest, "select create_organization('G', %s)", (f"g-{unique}",), anonymous=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        call(conn, None, "select create_organization('A', %s)", (f"a-{unique}",))


def test_add_invites_and_the_invitee_accepts(conn, new_org, unique):
    org, owner = new_org
    user = create_user(conn, f"new-{unique}@example.test")
    invitation = add_member(conn, org, owner, f"NEW-{unique}@example.test", "viewer")
    assert (str(invitation[0]), invitation[1], invitation[2]) == (org, f"new-{unique}@example.test", "viewer")
    # not a member until accepted
    rows = call_all(conn, owner, "select user_id from list_org_members(%s)", (org,))
    assert [str(r[0]) for r in rows] == [owner]
    mine = call_all(conn, user, "select org_id, role, invited_by from list_my_invitations()")
    assert [(str(r[0]), r[1], r[2]) for r in mine] == [(org, "viewer", f"owner-{unique}@example.test")]
    row = call(conn, user, "select * from accept_org_invitation(%s)", (org,))
    assert (str(row[1]), row[2]) == (user, "viewer")
    rows = call_all(conn, user, "select user_id, email, role from list_org_members(%s)", (org,))
    assert {(str(r[0]), r[1], r[2]) for r in rows} == {
        (owner, f"owner-{unique}@example.test", "owner"), (user, f"new-{unique}@example.test", "viewer")}
    assert call_all(conn, user, "select * from list_my_invitations()") == []
    action = conn.execute("select action, actor_id from activity_log where org_id = %s and entity = 'org_members' "
                          "order by id desc limit 1", (org,)).fetchone()
    assert (action[0], str(action[1])) == ("accept_org_invitation", user)


def test_add_answers_the_same_with_or_without_an_account(conn, new_org, unique):
    org, owner = new_org
    create_user(conn, f"has-{unique}@example.test")
    with_account = add_member(conn, org, owner, f"has-{unique}@example.test")
    without = add_member(conn, org, owner, f"nobody-{unique}@example.test")
    assert (with_account[2], without[2]) == ("member", "member")
    assert len(with_account) == len(without)


def test_unconfirmed_address_cannot_accept(conn, new_org, unique):
    org, owner = new_org
    squatter = create_user(conn, f"sq-{unique}@example.test", confirmed=False)
    add_member(conn, org, owner, f"sq-{unique}@example.test")
    assert call_all(conn, squatter, "select * from list_my_invitations()") == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="confirmed e-mail address"):
        call(conn, squatter, "select accept_org_invitation(%s)", (org,))


def test_nobody_accepts_someone_elses_invitation(conn, new_org, unique):
    org, owner = new_org
    other = create_user(conn, f"other-{unique}@example.test")
    add_member(conn, org, owner, f"invited-{unique}@example.test")
    with pytest.raises(psycopg.Error, match="no invitation") as err:
        call(conn, other, "select accept_org_invitation(%s)", (org,))
    assert err.value.sqlstate == "PT404"


def test_add_twice_is_a_conflict_once_a_member(conn, new_org, unique):
    org, owner = new_org
    user = create_user(conn, f"twice-{unique}@example.test")
    join(conn, org, owner, user, f"twice-{unique}@example.test")
    with pytest.raises(psycopg.errors.UniqueViolation, match="already a member"):
        add_member(conn, org, owner, f"twice-{unique}@example.test")


def test_bad_address_is_refused(conn, new_org):
    org, owner = new_org
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="is not an e-mail address"):
        add_member(conn, org, owner, "not an address")


def test_members_cannot_add_and_non_members_cannot_list(conn, new_org, unique):
    org, owner = new_org
    member = create_user(conn, f"m-{unique}@example.test")
    join(conn, org, owner, member, f"m-{unique}@example.test", "member")
    with pytest.raises(psycopg.errors.InsufficientPrivilege,
                       match="only an organization admin or above can invite members"):
        add_member(conn, org, member, f"x-{unique}@example.test")
    stranger = create_user(conn, f"s-{unique}@example.test")
    with pytest.raises(psycopg.Error, match=f"organization {org} not found"):
        call_all(conn, stranger, "select * from list_org_members(%s)", (org,))


def test_only_owners_grant_owner(conn, new_org, unique):
    org, owner = new_org
    admin = create_user(conn, f"a-{unique}@example.test")
    join(conn, org, owner, admin, f"a-{unique}@example.test", "admin")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an owner can invite an owner"):
        add_member(conn, org, admin, f"b-{unique}@example.test", "owner")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an owner can grant"):
        call(conn, admin, "select set_org_member_role(%s, %s, 'owner')", (org, admin))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only an owner can grant"):
        call(conn, admin, "select remove_org_member(%s, %s)", (org, owner))


def test_last_owner_stays(conn, new_org, unique):
    org, owner = new_org
    with pytest.raises(psycopg.errors.CheckViolation, match="an organization must keep at least one owner"):
        call(conn, owner, "select set_org_member_role(%s, %s, 'admin')", (org, owner))
    with pytest.raises(psycopg.errors.CheckViolation, match="at least one owner"):
        call(conn, owner, "select remove_org_member(%s, %s)", (org, owner))
    with pytest.raises(psycopg.errors.CheckViolation, match="at least one owner"):
        call(conn, owner, "delete from org_members where org_id = %s and user_id = %s", (org, owner))
    # With a second owner, the first may step down.
    second = create_user(conn, f"second-{unique}@example.test")
    join(conn, org, owner, second, f"second-{unique}@example.test", "owner")
    call(conn, owner, "select remove_org_member(%s, %s)", (org, owner))
    members = [str(r[0]) for r in conn.execute("select user_id from org_members where org_id = %s", (org,))]
    assert members == [second]


def test_remove_unknown_member_is_404(conn, new_org):
    org, owner = new_org
    with pytest.raises(psycopg.Error, match="is not a member of this organization") as err:
        call(conn, owner, "select remove_org_member(%s, '00000000-0000-0000-0000-000000000000')", (org,))
    assert err.value.sqlstate == "PT404"


def test_owner_deletes_organization_with_everything(conn, new_org, show_of):
    org, owner = new_org
    show = show_of(org, owner)
    call(conn, owner, "select create_advancing_session(%s)", (show,))
    call(conn, owner, "delete from organizations where id = %s", (org,))
    left = conn.execute(
        "select (select count(*) from shows where org_id = %(o)s) + (select count(*) from advancing_sessions "
        "where org_id = %(o)s) + (select count(*) from activity_log where org_id = %(o)s)"
        " + (select count(*) from org_members where org_id = %(o)s)", {"o": org}).fetchone()[0]
    assert left == 0


def test_rename_is_validated(conn, new_org):
    org, owner = new_org
    with pytest.raises(psycopg.errors.CheckViolation, match='slug "Bad Slug" must be 1-63 lower-case'):
        call(conn, owner, "update organizations set slug = 'Bad Slug' where id = %s", (org,))
    call(conn, owner, "update organizations set name = 'Renamed' where id = %s", (org,))
    assert conn.execute("select name from organizations where id = %s", (org,)).fetchone() == ("Renamed",)


def test_anonymous_user_without_the_claim_still_cannot_create(conn, unique):
    """The JWT claim is checked first; auth.users.is_anonymous backs it up."""
    guest = create_user(conn, anonymous=True)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not as a venue guest"):
        call(conn, guest, "select create_organization('G', %s)", (f"g-{unique}",), anonymous=False)
