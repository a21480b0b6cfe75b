"""/storage/v1/bucket: list, get, create, update, empty, delete (supabase/storage `http/routes/bucket`).
Every statement runs as the caller, so the bucket policies decide (none by default: only service_role)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.storage import errors
from oncore_cli.local.gateway.storage.common import (endpoint, json_body, json_response, parse_size, state,
                                                     valid_bucket_name)
from oncore_cli.local.gateway.storage.database import caller

COLUMNS = "id, name, owner, public, type, file_size_limit, allowed_mime_types, created_at, updated_at"
_SORT_COLUMNS = {"id", "name", "created_at", "updated_at"}


def bucket_json(row: tuple) -> dict[str, Any]:
    id_, name, owner, public, type_, limit, mimes, created, updated = row
    # storage3 validates `owner` as a string; Storage's response schema renders NULL as ""
    return {"id": id_, "name": name, "owner": str(owner) if owner else "", "public": bool(public), "type": type_,
            "file_size_limit": limit, "allowed_mime_types": mimes, "created_at": created, "updated_at": updated}


@endpoint
async def list_buckets(request: Request) -> Response:
    who = caller(request)
    q = request.query_params
    sort = q.get("sortColumn", "name")
    sort = sort if sort in _SORT_COLUMNS else "name"
    order = "desc" if q.get("sortOrder", "asc").lower() == "desc" else "asc"
    sql = f"select {COLUMNS} from storage.buckets where ($1 = '' or name ilike '%' || $1 || '%') " \
          f"order by {sort} {order} limit $2 offset $3"
    limit = _int(q.get("limit"), None)
    async with state(request).db.transaction(request, who, "storage.bucket.list") as tx:
        rows = await tx.rows(sql, q.get("search", ""), limit, _int(q.get("offset"), 0))
    return json_response([bucket_json(r) for r in rows])


@endpoint
async def get_bucket(request: Request) -> Response:
    who = caller(request)
    async with state(request).db.transaction(request, who, "storage.bucket.get") as tx:
        row = await tx.row(f"select {COLUMNS} from storage.buckets where id = $1", request.path_params["id"])
    if row is None:
        raise errors.no_such_bucket()
    return json_response(bucket_json(row))


@endpoint
async def create_bucket(request: Request) -> Response:
    who = caller(request)
    body = await json_body(request)
    name = valid_bucket_name(body.get("name"))
    bucket_id = valid_bucket_name(body.get("id") or name)
    limit, mimes = _limits(body)
    async with state(request).db.transaction(request, who, "storage.bucket.create",
                                             duplicate=errors.bucket_exists) as tx:
        await tx.rows("insert into storage.buckets (id, name, owner, owner_id, public, file_size_limit, "
                      "allowed_mime_types, type) values ($1, $2, $3, $4, $5, $6, $7, $8)",
                      bucket_id, name, who.owner_uuid, who.sub, bool(body.get("public", False)), limit, mimes,
                      body.get("type") or "STANDARD")
    return json_response({"name": name})


@endpoint
async def update_bucket(request: Request) -> Response:
    who = caller(request)
    body = await json_body(request)
    limit, mimes = _limits(body)
    sets, params = [], [request.path_params["id"]]
    for column, value, given in (("public", bool(body.get("public")), "public" in body),
                                 ("file_size_limit", limit, "file_size_limit" in body),
                                 ("allowed_mime_types", mimes, "allowed_mime_types" in body)):
        if given:
            params.append(value)
            sets.append(f"{column} = ${len(params)}")
    if not sets:
        raise errors.invalid_request("Nothing to update")
    async with state(request).db.transaction(request, who, "storage.bucket.update") as tx:
        row = await tx.row(f"update storage.buckets set {', '.join(sets)}, updated_at = now() where id = $1 "
                           "returning id", *params)
    if row is None:
        raise errors.no_such_bucket()
    return json_response({"message": "Successfully updated"})


@endpoint
async def empty_bucket(request: Request) -> Response:
    """Storage empties a bucket for service_role only (it runs as a background job there; here at once)."""
    who = caller(request)
    if not who.is_service:
        raise errors.access_denied("Access denied: Invalid role", http_status=403)
    bucket_id = request.path_params["id"]
    st = state(request)
    async with st.db.transaction(request, who, "storage.bucket.empty") as tx:
        if await tx.row("select 1 from storage.buckets where id = $1", bucket_id) is None:
            raise errors.no_such_bucket()
        rows = await tx.rows("delete from storage.objects where bucket_id = $1 returning name, version", bucket_id)
    for name, version in rows:
        st.files.discard(bucket_id, name, version)
    return json_response({"message": "Successfully emptied"})


@endpoint
async def delete_bucket(request: Request) -> Response:
    who = caller(request)
    bucket_id = request.path_params["id"]
    db = state(request).db
    async with db.transaction(request, who, "storage.bucket.delete", as_admin=True) as tx:
        count = await tx.row("select count(*) from storage.objects where bucket_id = $1", bucket_id)
    if count and count[0] > 0:
        raise errors.bucket_not_empty()
    async with db.transaction(request, who, "storage.bucket.delete") as tx:
        row = await tx.row("delete from storage.buckets where id = $1 returning id", bucket_id)
    if row is None:
        raise errors.no_such_bucket()
    return json_response({"message": "Successfully deleted"})


def _limits(body: dict) -> tuple[int | None, list[str] | None]:
    limit = parse_size(body.get("file_size_limit"))
    mimes = body.get("allowed_mime_types")
    if mimes is not None and (not isinstance(mimes, list) or not all(isinstance(m, str) for m in mimes)):
        raise errors.invalid_request("allowed_mime_types must be a list of strings")
    return limit, mimes or None


def _int(value: str | None, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    try:
        return max(0, int(value))
    except ValueError:
        raise errors.invalid_request(f"invalid number: {value}") from None
