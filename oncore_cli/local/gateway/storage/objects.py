"""/storage/v1/object: upload, update, download (authenticated, public, signed), info, list, remove, move, copy
(supabase/storage `http/routes/object`). Reads of a public bucket's objects skip RLS, as Storage's do; everything
else runs as the caller."""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import urllib.parse
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from oncore_cli.local.gateway.storage import errors, uploads
from oncore_cli.local.gateway.storage.common import endpoint, iso, json_body, json_response, state, valid_key
from oncore_cli.local.gateway.storage.database import Caller, caller
from oncore_cli.local.gateway.storage.files import read_range

MAX_OBJECTS_PER_REQUEST = 1000
_ROW = "select id, version, metadata, user_metadata, created_at, updated_at from storage.objects " \
       "where bucket_id = $1 and name = $2"


def _names(request: Request) -> tuple[str, str]:
    return request.path_params["bucket"], request.path_params["path"]


# -- uploads -------------------------------------------------------------------------------------------------------

@endpoint
async def upload(request: Request) -> Response:
    bucket, name = _names(request)
    who = caller(request)
    upsert = request.method == "PUT" or request.headers.get("x-upsert") == "true"
    operation = "storage.object.update" if request.method == "PUT" else "storage.object.upload"
    object_id = await uploads.store(request, who, bucket, name, upsert=upsert, check=True, operation=operation)
    return json_response({"Id": object_id, "Key": f"{bucket}/{name}"})


# -- reads ---------------------------------------------------------------------------------------------------------

async def _bucket_public(request: Request, who: Caller, bucket: str) -> bool:
    async with state(request).db.transaction(request, who, "storage.object.get", as_admin=True) as tx:
        row = await tx.row("select public from storage.buckets where id = $1", bucket)
    if row is None:
        raise errors.no_such_bucket()
    return bool(row[0])


async def find_row(request: Request, who: Caller, bucket: str, name: str, *, as_admin: bool,
                operation: str = "storage.object.get") -> tuple:
    async with state(request).db.transaction(request, who, operation, as_admin=as_admin) as tx:
        row = await tx.row(_ROW, bucket, name)
    if row is None:
        raise errors.no_such_key()
    return row


async def _readable(request: Request, who: Caller, bucket: str, name: str, *, public_only: bool = False) -> tuple:
    """The row, if the caller may read it: any object of a public bucket; else what RLS lets the caller see."""
    public = await _bucket_public(request, who, bucket)
    if public_only and not public:
        raise errors.no_such_bucket()
    if not public and who.identity.anonymous and not public_only:
        raise errors.no_such_bucket()
    return await find_row(request, who, bucket, name, as_admin=public)


@endpoint
async def download(request: Request) -> Response:
    """GET/HEAD /object/{bucket}/{path}: a missing or bad token reads as anon."""
    return await _download(request, caller(request, anon_ok=True))


@endpoint
async def download_authenticated(request: Request) -> Response:
    """GET/HEAD /object/authenticated/{bucket}/{path}: a valid token is required."""
    return await _download(request, caller(request))


@endpoint
async def download_public(request: Request) -> Response:
    return await _download(request, caller(request, anon_ok=True), public_only=True)


async def _download(request: Request, who: Caller, public_only: bool = False) -> Response:
    bucket, name = _names(request)
    return await send_latest(request, bucket, name,
                             lambda: _readable(request, who, bucket, name, public_only=public_only))


async def send_latest(request: Request, bucket: str, name: str, read_row, expires: str | None = None) -> Response:
    """Send the object the row names; if an overwrite removed that version meanwhile, read the row again, once."""
    for attempt in (1, 2):
        try:
            return await send_object(request, bucket, name, await read_row(), expires=expires)
        except Replaced:
            if attempt == 2:
                raise errors.no_such_key() from None
    raise AssertionError("unreachable")


class Replaced(Exception):
    """The version the row named was replaced (and its file removed) between reading the row and opening it."""


async def send_object(request: Request, bucket: str, name: str, row: tuple,
                      expires: str | None = None) -> Response:
    """The object's bytes with Storage's headers: Range (206), If-None-Match (304), ?download (attachment)."""
    _id, version, metadata, _user, _created, updated = row
    metadata = metadata or {}
    files = state(request).files
    try:
        fd = os.open(files.path(bucket, name, version), os.O_RDONLY)
    except FileNotFoundError:
        raise Replaced() from None
    size = os.fstat(fd).st_size
    # the stored type as it is (Starlette would append a charset to text/*)
    headers = {"Content-Type": metadata.get("mimetype") or "application/octet-stream",
               "Cache-Control": metadata.get("cacheControl") or "no-cache", "Accept-Ranges": "bytes",
               "Last-Modified": email.utils.format_datetime(updated.astimezone(dt.timezone.utc), usegmt=True)}
    if metadata.get("eTag"):
        headers["ETag"] = metadata["eTag"]
    if expires:
        headers["Expires"] = expires
    if "download" in request.query_params:
        filename = request.query_params["download"]
        headers["Content-Disposition"] = "attachment;" if not filename else \
            f"attachment; filename={urllib.parse.quote(filename)}; filename*=UTF-8''{urllib.parse.quote(filename)}"
    if metadata.get("eTag") and request.headers.get("if-none-match") == metadata["eTag"]:
        os.close(fd)
        return Response(status_code=304, headers=headers)
    start, length, status = 0, size, 200
    wanted = request.headers.get("range")
    if wanted:
        span = _range(wanted, size)
        if span is None:
            os.close(fd)
            return Response(status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, length, status = span[0], span[1] - span[0] + 1, 206
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        os.close(fd)
        return Response(status_code=status, headers=headers)

    async def body():
        try:
            async for chunk in read_range(fd, start, length):
                yield chunk
        finally:
            os.close(fd)

    return StreamingResponse(body(), status_code=status, headers=headers)


def _range(header: str, size: int) -> tuple[int, int] | None:
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            n = int(last)
            return (max(0, size - n), size - 1) if n > 0 and size else None
        a = int(first)
        b = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    return (a, b) if a <= b and a < size else None


def _info_json(bucket: str, name: str, row: tuple) -> dict[str, Any]:
    id_, version, metadata, user_metadata, created, updated = row
    metadata = metadata or {}
    return {"id": str(id_), "name": name, "version": version, "bucket_id": bucket, "size": metadata.get("size"),
            "content_type": metadata.get("mimetype"), "cache_control": metadata.get("cacheControl"),
            "etag": metadata.get("eTag"), "metadata": user_metadata, "last_modified": iso(updated),
            "created_at": iso(created)}


@endpoint
async def info(request: Request) -> Response:
    bucket, name = _names(request)
    public_only = "/info/public/" in request.url.path
    who = caller(request, anon_ok=public_only or "/info/authenticated/" not in request.url.path)
    row = await _readable(request, who, bucket, name, public_only=public_only)
    if request.method == "HEAD":
        return Response(status_code=200)
    return json_response(_info_json(bucket, name, row))


@endpoint
async def list_objects(request: Request) -> Response:
    """POST /object/list/{bucket}: one folder level through `storage.search`, run as the caller."""
    bucket = request.path_params["bucket"]
    who = caller(request)
    body = await json_body(request)
    if "prefix" not in body:
        raise errors.invalid_request("body must have required property 'prefix'")
    prefix = body.get("prefix") or ""
    if not isinstance(prefix, str):
        raise errors.invalid_request("body/prefix must be string")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    sort = body.get("sortBy") or {}
    column = sort.get("column") or "name" if isinstance(sort, dict) else "name"
    order = sort.get("order") or "asc" if isinstance(sort, dict) else "asc"
    limit = _number(body.get("limit", 100), "limit")
    offset = _number(body.get("offset", 0), "offset")
    search = body.get("search") or ""
    levels = len(prefix.split("/")) if prefix else 1
    async with state(request).db.transaction(request, who, "storage.object.list") as tx:
        rows = await tx.rows("select name, id, updated_at, created_at, last_accessed_at, metadata "
                             "from storage.search($1, $2, $3, $4, $5, $6, $7, $8)",
                             prefix, bucket, limit, levels, offset, str(search), str(column), str(order))
    return json_response([{"name": n, "id": str(i) if i else None, "updated_at": u, "created_at": c,
                           "last_accessed_at": a, "metadata": m} for n, i, u, c, a, m in rows])


def _number(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.invalid_request(f"body/{name} must be integer") from None
    if number < 0:
        raise errors.invalid_request(f"body/{name} must be >= 0")
    return number


# -- writes --------------------------------------------------------------------------------------------------------

@endpoint
async def remove_many(request: Request) -> Response:
    """DELETE /object/{bucket} `{"prefixes": [names]}`: the rows RLS lets the caller delete, and their files."""
    bucket = request.path_params["bucket"]
    who = caller(request)
    body = await json_body(request)
    names = body.get("prefixes")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise errors.invalid_request("body/prefixes must be a non-empty array of strings")
    if len(names) > MAX_OBJECTS_PER_REQUEST:
        raise errors.invalid_request(f"Bulk object requests are limited to {MAX_OBJECTS_PER_REQUEST} objects "
                                     "per request.")
    rows = await _delete(request, who, bucket, names)
    return json_response(rows)


@endpoint
async def remove_one(request: Request) -> Response:
    bucket, name = _names(request)
    who = caller(request)
    if not await _delete(request, who, bucket, [name]):
        raise errors.no_such_key()
    return json_response({"message": "Successfully deleted"})


async def _delete(request: Request, who: Caller, bucket: str, names: list[str]) -> list[dict]:
    st = state(request)
    async with st.db.transaction(request, who, "storage.object.delete") as tx:
        rows = await tx.rows("delete from storage.objects where bucket_id = $1 and name = any($2) returning "
                             "bucket_id, name, owner, owner_id, id, updated_at, created_at, last_accessed_at, "
                             "metadata, user_metadata, version", bucket, names)
    out = []
    for b, n, owner, owner_id, id_, updated, created, accessed, metadata, user_metadata, version in rows:
        st.files.discard(b, n, version)
        out.append({"bucket_id": b, "name": n, "owner": str(owner) if owner else None, "owner_id": owner_id,
                    "id": str(id_), "updated_at": updated, "created_at": created, "last_accessed_at": accessed,
                    "metadata": metadata, "user_metadata": user_metadata, "version": version})
    return out


async def _relocate(request: Request, copy: bool) -> Response:
    who = caller(request)
    body = await json_body(request)
    src_bucket, src, dst = body.get("bucketId"), body.get("sourceKey"), body.get("destinationKey")
    if not all(isinstance(v, str) and v for v in (src_bucket, src, dst)):
        raise errors.invalid_request("body must have bucketId, sourceKey and destinationKey")
    dst_bucket = body.get("destinationBucket") or src_bucket
    valid_key(dst)
    upsert = copy and request.headers.get("x-upsert") == "true"
    st = state(request)
    operation = "storage.object.copy" if copy else "storage.object.move"
    source = await find_row(request, who, src_bucket, src, as_admin=False, operation=operation)
    src_version = source[1]
    try:
        new_version = st.files.link(st.files.path(src_bucket, src, src_version), dst_bucket, dst)
    except FileNotFoundError:
        raise errors.no_such_key() from None
    try:
        async with st.db.transaction(request, who, operation) as tx:
            old = await tx.row("select version from storage.objects where bucket_id = $1 and name = $2",
                               dst_bucket, dst)
            if copy:
                row = await tx.row(
                    "insert into storage.objects (bucket_id, name, owner, owner_id, version, metadata, user_metadata)"
                    " select $3, $4, $5, $6, $7, metadata, "
                    "case when $8 then user_metadata end from storage.objects where bucket_id = $1 and name = $2"
                    + (" on conflict (bucket_id, name) do update set metadata = excluded.metadata, "
                       "user_metadata = excluded.user_metadata, version = excluded.version, owner = excluded.owner, "
                       "owner_id = excluded.owner_id" if upsert else "")
                    + " returning id, bucket_id, name, owner, owner_id, version, metadata, created_at, updated_at",
                    src_bucket, src, dst_bucket, dst, who.owner_uuid, who.sub, new_version,
                    body.get("copyMetadata", True) is not False)
            else:
                row = await tx.row("update storage.objects set bucket_id = $3, name = $4, version = $5, "
                                   "owner = $6, owner_id = $7 where bucket_id = $1 and name = $2 returning id",
                                   src_bucket, src, dst_bucket, dst, new_version, who.owner_uuid, who.sub)
            if row is None:
                raise errors.no_such_key()
    except BaseException:
        st.files.discard(dst_bucket, dst, new_version)
        raise
    if not copy:
        st.files.discard(src_bucket, src, src_version)
    if old is not None:
        st.files.discard(dst_bucket, dst, old[0])
    if copy:
        id_, b, n, owner, owner_id, version, metadata, created, updated = row
        return json_response({"Id": str(id_), "Key": f"{dst_bucket}/{dst}", "id": str(id_), "bucket_id": b,
                              "name": n, "owner": str(owner) if owner else None, "owner_id": owner_id,
                              "version": version, "metadata": metadata, "created_at": created,
                              "updated_at": updated})
    return json_response({"message": "Successfully moved", "Id": str(row[0]), "Key": f"{dst_bucket}/{dst}"})


@endpoint
async def move(request: Request) -> Response:
    return await _relocate(request, copy=False)


@endpoint
async def copy(request: Request) -> Response:
    return await _relocate(request, copy=True)


@endpoint
async def no_route(request: Request) -> Response:
    """Fastify's answer to a route Storage does not have."""
    raise errors.StorageError(404, "NotFound", f"Route {request.method}:{request.url.path[len('/storage/v1'):]} "
                                               "not found", "Not Found", http_status=404)
