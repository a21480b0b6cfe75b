"""Signed URLs (supabase/storage `storage/object.ts`: signObjectUrl, signObjectUrls, signUploadObjectUrl,
verifyObjectSignature). Tokens are HS256 JWTs signed with the project's JWT secret: `{url: "<bucket>/<name>",
scope: "download"}` for downloads, `{owner, url, upsert, scope: "upload"}` for uploads. Signing checks that the
caller may read (download) or write (upload) the object; using a token needs no other credential."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import jwt as pyjwt
from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.storage import errors, objects, uploads
from oncore_cli.local.gateway.storage.common import endpoint, json_body, json_response, state, valid_key
from oncore_cli.local.gateway.storage.database import Caller, caller, verify_jwt

DOWNLOAD, UPLOAD = "download", "upload"
UPLOAD_EXPIRES_IN = 2 * 3600   # hosted Supabase: signed upload URLs are valid for two hours


def _expires_in(body: dict) -> int:
    value = body.get("expiresIn")
    try:
        seconds = int(value)   # supabase-py sends a string, storage-js a number
    except (TypeError, ValueError):
        raise errors.invalid_request("body/expiresIn must be integer") from None
    if seconds < 1:
        raise errors.invalid_request("body/expiresIn must be >= 1")
    return seconds


def sign(secret: str, claims: dict[str, Any], expires_in: int) -> str:
    now = int(time.time())
    return pyjwt.encode({**claims, "iat": now, "exp": now + expires_in}, secret, algorithm="HS256")


def verify(request: Request, bucket: str, name: str, scope: str) -> dict:
    """The token's claims, or Storage's error: InvalidJWT (with jose's wording), then scope, path and expiry."""
    token = request.query_params.get("token")
    if not token:
        raise errors.invalid_request("querystring must have required property 'token'")
    claims = verify_jwt(token, state(request).jwt_secret)
    if claims.get("scope") != scope or (scope == UPLOAD) != ("upsert" in claims or "owner" in claims):
        raise errors.invalid_signature(f"Token is not scoped for {scope}")
    if claims.get("url") != f"{bucket}/{name}":
        raise errors.invalid_signature()
    return claims


@endpoint
async def sign_one(request: Request) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["path"]
    who = caller(request)
    expires_in = _expires_in(await json_body(request))
    await objects.find_row(request, who, bucket, name, as_admin=False, operation="storage.object.sign")
    token = sign(state(request).jwt_secret, {"url": f"{bucket}/{name}", "scope": DOWNLOAD}, expires_in)
    return json_response({"signedURL": f"/object/sign/{bucket}/{name}?token={token}"})


@endpoint
async def sign_many(request: Request) -> Response:
    bucket = request.path_params["bucket"]
    who = caller(request)
    body = await json_body(request)
    expires_in = _expires_in(body)
    paths = body.get("paths")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise errors.invalid_request("body/paths must be a non-empty array of strings")
    async with state(request).db.transaction(request, who, "storage.object.sign") as tx:
        visible = {r[0] for r in await tx.rows(
            "select name from storage.objects where bucket_id = $1 and name = any($2)", bucket, paths)}
    secret = state(request).jwt_secret
    out = []
    for path in paths:
        if path in visible:
            token = sign(secret, {"url": f"{bucket}/{path}", "scope": DOWNLOAD}, expires_in)
            out.append({"error": None, "path": path, "signedURL": f"/object/sign/{bucket}/{path}?token={token}"})
        else:
            out.append({"error": "Either the object does not exist or you do not have access to it", "path": path,
                        "signedURL": None})
    return json_response(out)


@endpoint
async def download_signed(request: Request) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["path"]
    claims = verify(request, bucket, name, DOWNLOAD)
    who = caller(request, anon_ok=True)
    expires = email.utils.formatdate(claims["exp"], usegmt=True) if isinstance(claims.get("exp"), int) else None
    return await objects.send_latest(request, bucket, name,
                                     lambda: objects.find_row(request, who, bucket, name, as_admin=True),
                                     expires=expires)


@endpoint
async def sign_upload(request: Request) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["path"]
    who = caller(request)
    valid_key(name)
    upsert = request.headers.get("x-upsert") == "true"
    st = state(request)
    await uploads.bucket_limits(st, request, who, bucket)
    await uploads.check_write(st, request, who, bucket, name, upsert=upsert, metadata={}, user_metadata=None,
                             operation="storage.object.upload_sign")
    url = f"{bucket}/{name}"
    token = sign(st.jwt_secret, {"owner": who.sub, "url": url, "upsert": upsert, "scope": UPLOAD}, UPLOAD_EXPIRES_IN)
    return json_response({"url": f"/object/upload/sign/{url}?token={token}", "token": token})


@endpoint
async def upload_signed(request: Request) -> Response:
    bucket, name = request.path_params["bucket"], request.path_params["path"]
    claims = verify(request, bucket, name, UPLOAD)
    who = caller(request, anon_ok=True)
    owner_sub = claims.get("owner") if isinstance(claims.get("owner"), str) else None
    owner = Caller(who.identity, owner_sub)
    object_id = await uploads.store(request, who, bucket, name, upsert=bool(claims.get("upsert")), check=False,
                                    owner=owner, operation="storage.object.upload_signed")
    return json_response({"Id": object_id, "Key": f"{bucket}/{name}"})
