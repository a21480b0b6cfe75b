"""/storage/v1 through unmodified supabase-py (storage3): the round trip on the private `advancing` bucket, bucket
management, Storage's errors (409 Duplicate, 413, 415, expired and forged signed URLs), public buckets, and the
bytes on disk following the rows."""

from __future__ import annotations

import time

import httpx
import psycopg
import pytest

from oncore_cli.local.gateway.jwt import encode
from storage_support import make_tour, storage_error, storage_for


@pytest.fixture
def tour(stack, unique):
    return make_tour(stack, unique)


@pytest.fixture
def admin(stack):
    return storage_for(stack, stack.service_role_key)


def objects_dir(stack):
    from pathlib import Path
    return Path(stack.data_dir) / "storage" / "objects"


def test_round_trip_upload_list_sign_download_remove(stack, tour):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    path = f"{tour.folder}/rider.pdf"
    uploaded = bucket.upload(path, b"%PDF-1.4 rider", {"content-type": "application/pdf"})
    assert uploaded.full_path == f"advancing/{path}"

    listed = bucket.list(tour.folder)
    assert [(o["name"], o["metadata"]["size"], o["metadata"]["mimetype"]) for o in listed] == \
        [("rider.pdf", 14, "application/pdf")]
    assert listed[0]["metadata"]["eTag"].startswith('"') and listed[0]["metadata"]["cacheControl"] == "max-age=3600"

    signed = bucket.create_signed_url(path, 60)["signedURL"]
    fetched = httpx.get(signed)   # no apikey, no token: the URL is the credential
    assert fetched.status_code == 200 and fetched.content == b"%PDF-1.4 rider"
    assert fetched.headers["content-type"] == "application/pdf" and "expires" in fetched.headers

    assert bucket.download(path) == b"%PDF-1.4 rider"
    assert bucket.exists(path) and not bucket.exists(f"{tour.folder}/nothing.pdf")
    removed = bucket.remove([path, f"{tour.folder}/nothing.pdf"])
    assert [r["name"] for r in removed] == [path]
    assert bucket.list(tour.folder) == []
    assert storage_error(lambda: bucket.download(path)).status == "404"


def test_row_kept_as_supabase_keeps_it(stack, tour, db_url):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    path = f"{tour.folder}/input-list.csv"
    bucket.upload(path, b"ch,source\n1,kick\n", {"content-type": "text/csv", "cache-control": "120",
                                                 "metadata": {"rev": 3}})
    with psycopg.connect(db_url) as conn:
        owner, owner_id, metadata, user_metadata, version = conn.execute(
            "select owner, owner_id, metadata, user_metadata, version from storage.objects "
            "where bucket_id = 'advancing' and name = %s", (path,)).fetchone()
    assert str(owner) == owner_id == tour.owner.id
    assert metadata["size"] == metadata["contentLength"] == 17 and metadata["mimetype"] == "text/csv"
    assert metadata["cacheControl"] == "max-age=120" and metadata["httpStatusCode"] == 200
    assert metadata["eTag"] == '"' + __import__("hashlib").md5(b"ch,source\n1,kick\n").hexdigest() + '"'
    assert metadata["lastModified"].endswith("Z") and user_metadata == {"rev": 3}
    info = bucket.info(path)
    assert info["size"] == 17 and info["content_type"] == "text/csv" and info["metadata"] == {"rev": 3}
    assert len([p for p in objects_dir(stack).glob("*/*/*") if p.name == version]) == 1


def test_duplicate_without_upsert_is_409_and_upsert_replaces(stack, tour):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    path = f"{tour.folder}/stage-plot.txt"
    bucket.upload(path, b"v1")
    error = storage_error(lambda: bucket.upload(path, b"v2"))
    assert (error.status, error.code, error.message) == ("409", "Duplicate", "The resource already exists")
    assert bucket.download(path) == b"v1"
    bucket.upload(path, b"v2", {"upsert": "true"})
    bucket.update(path, b"v3")
    assert bucket.download(path) == b"v3"
    # one version file per object: the replaced ones are gone
    key_dirs = {p.parent for p in objects_dir(stack).glob("*/*/*")}
    assert all(len(list(d.iterdir())) == 1 for d in key_dirs)


def test_move_and_copy(stack, tour):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    bucket.upload(f"{tour.folder}/a.txt", b"alpha")
    bucket.move(f"{tour.folder}/a.txt", f"{tour.folder}/b.txt")
    bucket.copy(f"{tour.folder}/b.txt", f"{tour.folder}/c.txt")
    assert sorted(o["name"] for o in bucket.list(tour.folder)) == ["b.txt", "c.txt"]
    assert bucket.download(f"{tour.folder}/c.txt") == b"alpha"
    bucket.remove([f"{tour.folder}/b.txt"])
    assert bucket.download(f"{tour.folder}/c.txt") == b"alpha"   # a copy does not share the original's fate


def test_list_prefix_limit_offset_sort_search(stack, tour):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    for name in ("b-rider.pdf", "a-plot.pdf", "c-input.csv"):
        bucket.upload(f"{tour.folder}/{name}", name.encode())
    names = lambda **opts: [o["name"] for o in bucket.list(tour.folder, opts or None)]   # noqa: E731
    assert names() == ["a-plot.pdf", "b-rider.pdf", "c-input.csv"]
    assert names(limit=2, offset=1) == ["b-rider.pdf", "c-input.csv"]
    assert names(sortBy={"column": "name", "order": "desc"}) == ["c-input.csv", "b-rider.pdf", "a-plot.pdf"]
    assert names(search="b-") == ["b-rider.pdf"]
    top = bucket.list(tour.org["id"])
    assert [(o["name"], o["id"]) for o in top] == [(tour.session["session_id"], None)]   # a folder


def test_signed_url_expired_or_forged_is_400(stack, tour):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    path = f"{tour.folder}/rider.txt"
    bucket.upload(path, b"rider")
    base = f"{stack.api_url}/storage/v1/object/sign/advancing/{path}"
    now = int(time.time())
    expired = encode({"url": f"advancing/{path}", "scope": "download", "iat": now - 120, "exp": now - 60},
                     stack.jwt_secret)
    answer = httpx.get(f"{base}?token={expired}")
    assert answer.status_code == 400
    assert answer.json() == {"statusCode": "400", "code": "InvalidJWT", "error": "InvalidJWT",
                             "message": '"exp" claim timestamp check failed'}
    other = encode({"url": f"advancing/{tour.folder}/other.txt", "scope": "download", "exp": now + 60},
                   stack.jwt_secret)
    assert httpx.get(f"{base}?token={other}").json()["code"] == "InvalidSignature"
    forged = encode({"url": f"advancing/{path}", "scope": "download", "exp": now + 60}, "not-the-secret" * 3)
    assert httpx.get(f"{base}?token={forged}").json()["code"] == "InvalidJWT"
    signed_many = bucket.create_signed_urls([path, f"{tour.folder}/nope.txt"], 60)
    assert signed_many[0]["error"] is None and httpx.get(signed_many[0]["signedURL"]).content == b"rider"
    assert signed_many[1]["signedURL"] is None and "do not have access" in signed_many[1]["error"]


def test_signed_upload_url(stack, tour):
    bucket = storage_for(stack, tour.owner.token).from_("advancing")
    path = f"{tour.folder}/from-venue.txt"
    signed = bucket.create_signed_upload_url(path)
    anonymous = storage_for(stack).from_("advancing")   # whoever holds the URL may upload that one object
    anonymous.upload_to_signed_url(path, signed["token"], b"dock photo", {"content-type": "text/plain"})
    assert bucket.download(path) == b"dock photo"
    assert bucket.info(path)["content_type"] == "text/plain"
    error = storage_error(lambda: anonymous.upload_to_signed_url(f"{tour.folder}/elsewhere.txt", signed["token"],
                                                                 b"x"))
    assert error.status == "400"


def test_bucket_lifecycle_and_limits(stack, admin, unique, tour):
    name = f"tiny-{unique}"
    admin.create_bucket(name, options={"public": False, "file_size_limit": 10, "allowed_mime_types": ["image/*"]})
    got = admin.get_bucket(name)
    assert (got.file_size_limit, got.allowed_mime_types, got.public) == (10, ["image/*"], False)
    assert name in [b.id for b in admin.list_buckets()]
    files = admin.from_(name)
    too_big = storage_error(lambda: files.upload("a.png", b"x" * 11, {"content-type": "image/png"}))
    assert (too_big.status, too_big.code) == ("413", "Payload too large")
    wrong_type = storage_error(lambda: files.upload("a.txt", b"hi", {"content-type": "text/plain"}))
    assert (wrong_type.status, wrong_type.code, wrong_type.message) == \
        ("415", "invalid_mime_type", "mime type text/plain is not supported")
    files.upload("a.png", b"\x89PNG", {"content-type": "image/png"})
    assert storage_error(lambda: admin.create_bucket(name)).status == "409"
    assert storage_error(lambda: admin.delete_bucket(name)).status == "409"   # not empty
    admin.update_bucket(name, {"public": True, "file_size_limit": "1MB", "allowed_mime_types": None})
    assert admin.get_bucket(name).file_size_limit == 1_000_000
    admin.empty_bucket(name)
    admin.delete_bucket(name)
    assert storage_error(lambda: admin.get_bucket(name)).status == "404"
    # no bucket policy exists: signed-in users cannot create buckets (RLS), as on hosted
    user = storage_for(stack, tour.owner.token)
    denied = storage_error(lambda: user.create_bucket(f"mine-{unique}"))
    assert (denied.status, denied.code) == ("403", "Unauthorized")
    assert storage_error(lambda: user.empty_bucket("advancing")).status == "403"


def test_public_bucket_reads_without_credentials(stack, admin, unique):
    name = f"press-{unique}"
    admin.create_bucket(name, options={"public": True})
    admin.from_(name).upload("logo.svg", b"<svg/>", {"content-type": "image/svg+xml"})
    public = httpx.get(admin.from_(name).get_public_url("logo.svg"))
    assert public.status_code == 200 and public.content == b"<svg/>"
    assert public.headers["content-type"] == "image/svg+xml"
    ranged = httpx.get(admin.from_(name).get_public_url("logo.svg"), headers={"Range": "bytes=1-3"})
    assert ranged.status_code == 206 and ranged.content == b"svg" and ranged.headers["content-range"] == "bytes 1-3/6"
    private = httpx.get(f"{stack.api_url}/storage/v1/object/public/advancing/x/y/z.pdf")
    assert private.status_code == 400 and private.json()["statusCode"] == "404" \
        and private.json()["message"] == "Bucket not found"
    assert storage_for(stack).from_(name).download("logo.svg") == b"<svg/>"   # anon key: public reads


def test_direct_sql_delete_is_refused_as_on_hosted(db_url, tour, stack):
    storage_for(stack, tour.owner.token).from_("advancing").upload(f"{tour.folder}/keep.txt", b"keep")
    with psycopg.connect(db_url) as conn:
        for table in ("storage.objects", "storage.buckets"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="Use the Storage API"):
                with conn.transaction():
                    conn.execute(f"delete from {table} where false")
        assert conn.execute("select count(*) from storage.objects where name = %s",
                            (f"{tour.folder}/keep.txt",)).fetchone() == (1,)


def test_interrupted_upload_leaves_no_row_and_no_file(stack, tour, db_url):
    """The client goes away mid-body: no row, nothing in tmp/ or objects/ for that name."""
    import socket
    from urllib.parse import urlsplit

    path = f"{tour.folder}/half.bin"
    host, port = urlsplit(stack.api_url).hostname, urlsplit(stack.api_url).port
    body_head = (b"--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"half.bin\"\r\n"
                 b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 200_000)
    request = (f"POST /storage/v1/object/advancing/{path} HTTP/1.1\r\nHost: {host}\r\n"
               f"apikey: {stack.anon_key}\r\nAuthorization: Bearer {tour.owner.token}\r\n"
               f"Content-Type: multipart/form-data; boundary=b0undary\r\nContent-Length: 10000000\r\n\r\n").encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(request + body_head)
    storage = storage_for(stack, tour.owner.token).from_("advancing")
    storage.upload(f"{tour.folder}/after.txt", b"after")   # the gateway is fine and has moved on
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select count(*) from storage.objects where name = %s", (path,)).fetchone() == (0,)
    from oncore_cli.local.gateway.storage.files import FileStore
    assert not (objects_dir(stack) / FileStore.key("advancing", path)[:2] / FileStore.key("advancing", path)).exists()
    deadline = time.monotonic() + 10
    while any((objects_dir(stack).parent / "tmp").iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)   # the server notices the closed connection on its own schedule
    assert not any((objects_dir(stack).parent / "tmp").iterdir())


def test_bad_bearer_token_is_storage_access_denied(stack, tour):
    now = int(time.time())
    expired = encode({"sub": tour.owner.id, "role": "authenticated", "exp": now - 5}, stack.jwt_secret)
    error = storage_error(lambda: storage_for(stack, expired).from_("advancing").list(tour.folder))
    assert (error.status, error.code, error.message) == ("403", "Unauthorized", '"exp" claim timestamp check failed')
    missing = httpx.post(f"{stack.api_url}/storage/v1/object/list/advancing", json={"prefix": ""},
                         headers={"apikey": stack.anon_key, "Authorization": "Bearer not-a-jwt"})
    assert missing.status_code == 400 and missing.json()["statusCode"] == "403"
    unknown = httpx.get(f"{stack.api_url}/storage/v1/nothing/here", headers={"apikey": stack.anon_key})
    assert unknown.status_code == 404 and unknown.json()["message"] == "Route GET:/nothing/here not found"
