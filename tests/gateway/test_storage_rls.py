"""Who may touch which files of the `advancing` bucket, decided by the project's storage policies run as the caller
(supabase/migrations): members read and write their organization's session folders, viewers only read, outsiders
see nothing, and a venue guest — signed in anonymously through /auth/v1, admitted by `claim_access_code` — reaches
only its own session's folder."""

from __future__ import annotations

import pytest
from supabase import create_client

from storage_support import make_tour, storage_error, storage_for
from test_rest_support import client_for, make_user


@pytest.fixture(scope="module")
def tours(stack):
    import uuid

    first, second = make_tour(stack, uuid.uuid4().hex[:10], "sa"), make_tour(stack, uuid.uuid4().hex[:10], "sb")
    storage_for(stack, first.owner.token).from_("advancing").upload(f"{first.folder}/rider.pdf", b"rider A")
    storage_for(stack, second.owner.token).from_("advancing").upload(f"{second.folder}/rider.pdf", b"rider B")
    return first, second


def member_of(stack, tour, role: str, unique: str):
    user = make_user(stack, unique)
    client_for(stack, tour.owner).rpc("add_org_member", {"org_id": tour.org["id"], "email": user.email,
                                                        "role": role}).execute()
    client_for(stack, user).rpc("accept_org_invitation", {"org_id": tour.org["id"]}).execute()  # members join by invitation
    return storage_for(stack, user.token).from_("advancing")


def test_member_reads_and_writes_its_org_folder(stack, tours, unique):
    tour, other = tours
    bucket = member_of(stack, tour, "member", unique)
    assert bucket.download(f"{tour.folder}/rider.pdf") == b"rider A"
    bucket.upload(f"{tour.folder}/plot-{unique}.pdf", b"plot")
    assert f"plot-{unique}.pdf" in [o["name"] for o in bucket.list(tour.folder)]
    denied = storage_error(lambda: bucket.upload(f"{other.folder}/x.pdf", b"x"))
    assert (denied.status, denied.message) == ("403", "new row violates row-level security policy")
    assert bucket.list(other.folder) == []
    assert storage_error(lambda: bucket.download(f"{other.folder}/rider.pdf")).status == "404"
    assert bucket.remove([f"{other.folder}/rider.pdf"]) == []   # skipped silently, as Storage does
    assert storage_for(stack, other.owner.token).from_("advancing").download(f"{other.folder}/rider.pdf")


def test_viewer_reads_but_cannot_write(stack, tours, unique):
    tour, _ = tours
    bucket = member_of(stack, tour, "viewer", unique)
    assert bucket.download(f"{tour.folder}/rider.pdf") == b"rider A"
    assert storage_error(lambda: bucket.upload(f"{tour.folder}/v.pdf", b"v")).status == "403"
    assert bucket.remove([f"{tour.folder}/rider.pdf"]) == []


def test_outsider_sees_and_signs_nothing(stack, tours, unique):
    tour, _ = tours
    bucket = storage_for(stack, make_user(stack, unique).token).from_("advancing")
    assert bucket.list(tour.folder) == [] and bucket.list(tour.org["id"]) == []
    assert storage_error(lambda: bucket.create_signed_url(f"{tour.folder}/rider.pdf", 60)).status == "404"
    assert storage_error(lambda: bucket.upload(f"{tour.folder}/x.pdf", b"x")).status == "403"
    anon = storage_for(stack).from_("advancing")   # signed out: a private bucket does not even show
    assert storage_error(lambda: anon.download(f"{tour.folder}/rider.pdf")).message == "Bucket not found"


def test_venue_guest_only_in_its_session_folder(stack, tours):
    tour, other = tours
    guest = create_client(stack.api_url, stack.anon_key)
    guest.auth.sign_in_anonymously()
    guest.rpc("claim_access_code", {"code": tour.session["access_code"]}).execute()
    bucket = guest.storage.from_("advancing")
    bucket.upload(f"{tour.folder}/dock-photo.jpg", b"jpeg", {"content-type": "image/jpeg"})
    assert bucket.download(f"{tour.folder}/rider.pdf") == b"rider A"
    assert {o["name"] for o in bucket.list(tour.folder)} >= {"dock-photo.jpg", "rider.pdf"}
    owner = storage_for(stack, tour.owner.token).from_("advancing")
    assert owner.download(f"{tour.folder}/dock-photo.jpg") == b"jpeg"
    # another session of the same organization, and another organization: nothing
    second = client_for(stack, tour.owner)
    show = second.table("shows").insert({"org_id": tour.org["id"], "date": "2027-06-02"}).execute().data[0]
    sibling = second.rpc("create_advancing_session", {"show_id": show["id"]}).execute().data
    sibling_folder = f"{tour.org['id']}/{sibling['session_id']}"
    assert storage_error(lambda: bucket.upload(f"{sibling_folder}/x.jpg", b"x")).status == "403"
    assert storage_error(lambda: bucket.upload(f"{other.folder}/x.jpg", b"x")).status == "403"
    assert storage_error(lambda: bucket.download(f"{other.folder}/rider.pdf")).status == "404"
    assert bucket.list(other.folder) == []
