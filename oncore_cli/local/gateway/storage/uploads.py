"""Uploads: POST (create; `x-upsert: true` overwrites), PUT (update), and PUT to a signed upload URL.

As Storage does it (`storage/uploader.ts`): the bucket's limits are read as the storage admin, the caller's right to
write the row is tested in a transaction that is rolled back (RLS decides, before any byte is stored), the body
streams to disk, and the row is written by the storage admin in a transaction that commits only once the bytes are
in place (see files.py for why a crash leaves nothing half-done)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, AsyncIterator

from starlette.requests import Request

from oncore_cli.local.gateway.storage import errors
from oncore_cli.local.gateway.storage.common import StorageState, iso, state, valid_key
from oncore_cli.local.gateway.storage.database import Caller
from oncore_cli.local.gateway.storage.files import TempWriter
from oncore_cli.local.gateway.storage.multipart import MultipartReader, header_params

_INSERT = "insert into storage.objects as o (bucket_id, name, owner, owner_id, version, metadata, user_metadata) " \
          "values ($1, $2, $3, $4, $5, $6, $7)"
_UPSERT = _INSERT + " on conflict (bucket_id, name) do update set metadata = excluded.metadata, " \
                    "user_metadata = excluded.user_metadata, version = excluded.version, owner = excluded.owner, " \
                    "owner_id = excluded.owner_id"


@dataclass
class Incoming:
    mimetype: str
    cache_control: str
    user_metadata: Any
    declared_length: int | None
    body: AsyncIterator[bytes]


async def bucket_limits(st: StorageState, request: Request, who: Caller, bucket_id: str) -> tuple[int, list[str]]:
    async with st.db.transaction(request, who, "storage.object.upload", as_admin=True) as tx:
        row = await tx.row("select file_size_limit, allowed_mime_types from storage.buckets where id = $1",
                           bucket_id)
    if row is None:
        raise errors.no_such_bucket()
    limit = st.file_size_limit if row[0] is None else min(row[0], st.file_size_limit)
    return limit, row[1] or []


async def incoming(request: Request, limit: int) -> Incoming:
    """The object's type, cache control and user metadata, and its byte stream (not yet read)."""
    content_type = request.headers.get("content-type", "")
    length = request.headers.get("content-length")
    declared = int(length) if length and length.isdigit() else None
    kind, params = header_params(content_type)
    if kind == "multipart/form-data":
        if not params.get("boundary"):
            raise errors.invalid_request("No content provided")
        part = await MultipartReader(request.stream().__aiter__(), params["boundary"]).file()
        cache = part.fields.get("cacheControl")
        meta = part.fields.get("metadata") or part.fields.get("userMetadata")
        return Incoming(part.fields.get("contentType") or part.content_type or "text/plain",
                        f"max-age={cache}" if cache else "no-cache", _json_or_none(meta), declared, part.body)
    if declared is not None and declared > limit:
        raise errors.too_large()
    meta = request.headers.get("x-metadata")
    user_metadata = None
    if meta:
        try:
            user_metadata = json.loads(base64.b64decode(meta))
        except ValueError:
            user_metadata = None
    return Incoming(content_type or "application/octet-stream", request.headers.get("cache-control", "no-cache"),
                    user_metadata, declared, request.stream().__aiter__())


def check_mime(mimetype: str, allowed: list[str]) -> None:
    """Storage's `validateMimeType`: `type/subtype` or `type/*` entries, compared as given — parameters included,
    so `text/plain;charset=UTF-8` does not match `text/plain` (as on hosted)."""
    if not allowed:
        return
    requested = mimetype.split("/")
    if len(requested) < 2:
        raise errors.invalid_mime_type(mimetype)
    for entry in allowed:
        kind, _, sub = entry.partition("/")
        if kind == requested[0] and sub in ("*", requested[1]):
            return
    raise errors.invalid_mime_type(mimetype)


async def check_write(st: StorageState, request: Request, who: Caller, bucket_id: str, name: str, *,
                     upsert: bool, metadata: dict, user_metadata: Any, operation: str) -> None:
    """The caller's INSERT (or upsert), rolled back: RLS says yes or no before anything is stored."""
    async with st.db.transaction(request, who, operation, rollback=True) as tx:
        await tx.rows(_UPSERT if upsert else _INSERT, bucket_id, name, who.owner_uuid, who.sub, "1",
                      json.dumps(metadata), _dumps(user_metadata))


async def store(request: Request, who: Caller, bucket_id: str, name: str, *, upsert: bool, check: bool,
                owner: Caller | None = None, operation: str = "storage.object.upload") -> str:
    """The whole upload; returns the object's id. `check=False` for signed upload URLs (checked at signing)."""
    st = state(request)
    valid_key(name)
    limit, allowed = await bucket_limits(st, request, who, bucket_id)
    data = await incoming(request, limit)
    check_mime(data.mimetype, allowed)
    owner = owner or who
    if check:
        await check_write(st, request, who, bucket_id, name, upsert=upsert, user_metadata=data.user_metadata,
                         metadata={"mimetype": data.mimetype, "contentLength": data.declared_length},
                         operation=operation)
    temp = st.files.new_temp()
    writer = TempWriter(temp, limit)
    try:
        async for chunk in data.body:
            if writer.exceeded(len(chunk)):
                raise errors.too_large()
            await writer.write(chunk)
        await writer.finish()
    except BaseException:
        writer.abort()
        raise
    now = dt.datetime.now(dt.timezone.utc)
    etag = f'"{writer.md5.hexdigest()}"'
    metadata = {"eTag": etag, "size": writer.size, "mimetype": data.mimetype, "cacheControl": data.cache_control,
                "lastModified": iso(now), "contentLength": writer.size, "httpStatusCode": 200}
    version = st.files.publish(temp, bucket_id, name)
    try:
        async with st.db.transaction(request, who, operation, as_admin=True) as tx:
            old = await tx.row("select version from storage.objects where bucket_id = $1 and name = $2 for update",
                               bucket_id, name)
            if old is not None and not upsert:
                raise errors.key_exists()
            row = await tx.row((_UPSERT if upsert else _INSERT) + " returning id", bucket_id, name,
                               owner.owner_uuid, owner.sub, version, json.dumps(metadata),
                               _dumps(data.user_metadata))
    except BaseException:
        st.files.discard(bucket_id, name, version)
        raise
    if old is not None and old[0] != version:
        st.files.discard(bucket_id, name, old[0])
    return str(row[0])


def _json_or_none(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)
