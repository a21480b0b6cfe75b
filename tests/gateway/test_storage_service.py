"""StorageService (the CLI's client, over core/http.py) against the per-run stack: streamed upload with progress,
download to memory, to a file object and to a path, list, signed URL, remove, and Storage's errors as the project's
typed errors."""

from __future__ import annotations

import httpx
import pytest

from oncore_cli.core.client import Api
from oncore_cli.core.config import Settings
from oncore_cli.core.credentials import CredentialStore
from oncore_cli.core.errors import AuthError, ConflictError, NotFoundError, UsageError
from oncore_cli.services.storage import StorageService
from storage_support import make_tour, storage_for


@pytest.fixture
def tour(stack, unique):
    return make_tour(stack, unique)


def service(stack, token: str, tmp_path) -> StorageService:
    settings = Settings(profile="t", url=stack.api_url, anon_key=stack.anon_key, org=None, access_token=token,
                        service_role_key=None)
    return StorageService(Api(settings, CredentialStore(tmp_path)))


def test_upload_download_list_sign_remove(stack, tour, tmp_path):
    files = service(stack, tour.owner.token, tmp_path)
    source = tmp_path / "Input List.csv"
    source.write_bytes(b"ch,source\n" + b"1,kick\n" * 400_000)   # 2.8 MB: several chunks
    seen = []
    path = f"{tour.folder}/Input List.csv"
    key = files.upload("advancing", path, source, progress=lambda done, total: seen.append((done, total)))
    assert key["Key"] == f"advancing/{path}"
    size = source.stat().st_size
    assert seen[-1] == (size, size) and len(seen) > 1 and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:]))

    listed = files.list("advancing", tour.folder)
    assert [(o["name"], o["metadata"]["size"], o["metadata"]["mimetype"]) for o in listed] == \
        [("Input List.csv", size, "text/csv")]
    assert files.download("advancing", path) == source.read_bytes()
    out = files.download("advancing", path, tmp_path / "copy.csv")
    assert out.read_bytes() == source.read_bytes() and not list(tmp_path.glob(".*.part"))
    with open(tmp_path / "stream.csv", "wb") as handle:
        files.download("advancing", path, handle)
    assert (tmp_path / "stream.csv").stat().st_size == size

    url = files.signed_url("advancing", path, 60)
    assert " " not in url and "/Input%20List.csv?token=" in url
    assert httpx.get(url).content == source.read_bytes()
    assert [r["name"] for r in files.remove("advancing", [path])] == [path]
    assert files.list("advancing", tour.folder) == []


def test_bytes_and_errors(stack, tour, tmp_path, unique):
    files = service(stack, tour.owner.token, tmp_path)
    path = f"{tour.folder}/notes.txt"
    files.upload("advancing", path, b"first", content_type="text/plain")
    with pytest.raises(ConflictError, match="The resource already exists"):
        files.upload("advancing", path, b"second")
    files.upload("advancing", path, b"second", upsert=True)
    assert files.download("advancing", path) == b"second"
    with pytest.raises(NotFoundError, match="Object not found"):
        files.download("advancing", f"{tour.folder}/missing.txt", tmp_path / "missing.txt")
    assert not (tmp_path / "missing.txt").exists()
    with pytest.raises(AuthError, match="permission denied: new row violates row-level security policy"):
        files.upload("advancing", f"{tour.org['id']}/not-a-session/x.txt", b"x")
    admin = storage_for(stack, stack.service_role_key)
    admin.create_bucket(f"img-{unique}", options={"file_size_limit": 4, "allowed_mime_types": ["image/png"]})
    admin_files = service(stack, stack.service_role_key, tmp_path)
    with pytest.raises(UsageError, match="exceeded the maximum allowed size"):
        admin_files.upload(f"img-{unique}", "a.png", b"12345")
    with pytest.raises(UsageError, match="mime type text/plain is not supported"):
        admin_files.upload(f"img-{unique}", "a.txt", b"1")
    with pytest.raises(UsageError):
        files.signed_url("advancing", path, 0)


def test_uploads_are_not_held_to_the_rest_body_cap(stack, tour, tmp_path):
    """/rest/v1 refuses bodies over 10 MB; Storage streams and applies its own limits (50 MiB here)."""
    import hashlib
    import os

    files = service(stack, tour.owner.token, tmp_path)
    big = tmp_path / "stage-plot.tiff"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    files.upload("advancing", f"{tour.folder}/stage-plot.tiff", big)
    out = files.download("advancing", f"{tour.folder}/stage-plot.tiff", tmp_path / "back.tiff")
    assert hashlib.md5(out.read_bytes()).digest() == hashlib.md5(big.read_bytes()).digest()
    listed = files.list("advancing", tour.folder)
    assert listed[0]["metadata"]["mimetype"] == "image/tiff" and listed[0]["metadata"]["size"] == 12 * 1024 * 1024


def test_an_expired_token_is_refreshed_once(stack, tmp_path, unique, monkeypatch):
    """Storage answers an expired JWT with 400/statusCode 403 (not 401): the service refreshes and repeats."""
    import time as time_module

    from supabase import create_client

    from oncore_cli.core.credentials import Session
    from oncore_cli.local.gateway.jwt import encode

    auth = create_client(stack.api_url, stack.anon_key).auth
    signed = auth.sign_up({"email": f"st-refresh-{unique}@example.test", "password": "s3cret-pw-py"}).session
    expired = encode({"sub": signed.user.id, "role": "authenticated", "aud": "authenticated",
                      "exp": int(time_module.time()) - 120}, stack.jwt_secret)
    settings = Settings(profile="t", url=stack.api_url, anon_key=stack.anon_key, org=None, access_token=None,
                        service_role_key=None)
    store = CredentialStore(tmp_path)
    store.set("t", Session(expired, signed.refresh_token, int(time_module.time()) + 3600, signed.user.id))
    files = StorageService(Api(settings, store))
    assert files.list("advancing", "nobody") == []
    assert store.get("t").access_token != expired   # the refreshed pair was kept
