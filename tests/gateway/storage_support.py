"""Shared by the /storage/v1 tests: storage3 clients acting as a user (or service_role), an organization with an
advancing session whose folder is `<org_id>/<session_id>`, and Storage's error body as the client saw it."""

from __future__ import annotations

from dataclasses import dataclass

from storage3 import SyncStorageClient
from storage3.exceptions import StorageApiError

from test_rest_support import User, client_for, make_org, make_user


def storage_for(stack, token: str | None = None) -> SyncStorageClient:
    """storage3 as supabase-py builds it: `apiKey` plus the caller's bearer token (the anon key when signed out)."""
    return SyncStorageClient(f"{stack.api_url}/storage/v1/",
                             {"apiKey": stack.anon_key, "Authorization": f"Bearer {token or stack.anon_key}"})


@dataclass
class Tour:
    owner: User
    org: dict
    session: dict

    @property
    def folder(self) -> str:
        return f"{self.org['id']}/{self.session['session_id']}"


def make_tour(stack, unique: str, label: str = "st") -> Tour:
    owner = make_user(stack, unique)
    client = client_for(stack, owner)
    org = make_org(client, unique, label)
    show = client.table("shows").insert({"org_id": org["id"], "date": "2027-06-01", "status": "confirmed"}) \
        .execute().data[0]
    session = client.rpc("create_advancing_session", {"show_id": show["id"]}).execute().data
    return Tour(owner, org, session)


def storage_error(call) -> StorageApiError:
    try:
        call()
    except StorageApiError as e:
        return e
    raise AssertionError("the call succeeded; a Storage error was expected")
