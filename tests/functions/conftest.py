"""Fixtures for the edge functions: a second gateway on the shared database, serving a functions folder of the
test's choosing, with its own data directory (secrets, outbox, logs)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest


@pytest.fixture
def functions_gateway(extra_gateway, tmp_path):
    """Factory: start(supabase_dir, data_dir=None, **settings) → a gateway serving supabase_dir's functions."""
    count = 0

    def start(supabase_dir: Path, data_dir: Path | None = None, **settings) -> SimpleNamespace:
        nonlocal count
        data_dir = data_dir or tmp_path / f"data-{count}"
        count += 1
        data_dir.mkdir(parents=True, exist_ok=True)
        gw = extra_gateway(supabase_dir=str(supabase_dir), data_dir=str(data_dir), **settings)
        return SimpleNamespace(url=gw.url, port=gw.port, data_dir=data_dir,
                               log=lambda: (data_dir / "logs" / "functions.log").read_text(errors="replace"))

    return start


@pytest.fixture
def owner(stack, unique):
    """A signed-in user (supabase-py client) owning a fresh organization: SimpleNamespace(client, org_id, token)."""
    from supabase import create_client

    client = create_client(stack.api_url, stack.anon_key)
    session = client.auth.sign_up({"email": f"owner-{unique}@example.com", "password": "correct horse battery"}).session
    org = client.rpc("create_organization", {"name": f"Org {unique}", "slug": f"org-{unique}"}).execute().data
    return SimpleNamespace(client=client, org_id=org["id"], token=session.access_token)


@pytest.fixture
def session(owner, unique):
    """An advancing session of a show at a venue with a non-Latin name, 137 guests: id, one-time code, venue."""
    c = owner.client
    venue = c.table("venues").insert({"org_id": owner.org_id, "name": f"Клуб Ъ {unique}", "city": "Москва",
                                      "country": "RU", "timezone": "Europe/Moscow"}).execute().data[0]
    show = c.table("shows").insert({"org_id": owner.org_id, "venue_id": venue["id"], "date": "2027-05-02",
                                    "status": "confirmed"}).execute().data[0]
    created = c.rpc("create_advancing_session", {"show_id": show["id"]}).execute().data
    c.rpc("submit_hospitality", {"session_id": created["session_id"], "data": {"guest_count": 137}}).execute()
    return SimpleNamespace(id=created["session_id"], code=created["access_code"], venue=venue["name"])


@pytest.fixture
def stack_secrets(stack, stack_home):
    """Set secrets for the shared stack's functions (as `oncore local secrets set` does); restored afterwards."""
    from oncore_cli.local.functions import read_secrets, write_secrets

    data_dir = Path(stack_home) / "local"
    before = read_secrets(data_dir)

    def set_(**values: str) -> None:
        write_secrets(data_dir, {**read_secrets(data_dir), **values})

    yield set_
    write_secrets(data_dir, before)
