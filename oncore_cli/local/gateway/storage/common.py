"""What every Storage endpoint shares: the state on `app.state.storage`, JSON in and out, errors rendered once."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from oncore_cli.local.gateway.storage import errors
from oncore_cli.local.gateway.storage.database import Storage
from oncore_cli.local.gateway.storage.files import FileStore

log = logging.getLogger("oncore.gateway.storage")

MAX_JSON_BYTES = 1024 * 1024   # Fastify's default body limit for Storage's JSON routes
# supabase/storage `storage/limits.ts`: S3-safe characters only
_VALID_KEY = re.compile(r"^[A-Za-z0-9_/!.*'() &$=@;:+,?-]*$")
_VALID_BUCKET = re.compile(r"^[A-Za-z0-9_!.*'() &$=@;:+,?-]*$")


@dataclass
class StorageState:
    db: Storage
    files: FileStore
    file_size_limit: int      # config.toml `[storage] file_size_limit`: the cap for every upload
    jwt_secret: str


def state(request: Request) -> StorageState:
    return request.app.state.storage


def endpoint(fn):
    """Render StorageError (and anything unexpected, as Storage's 500) in Storage's shape."""
    @functools.wraps(fn)
    async def wrapper(request: Request) -> Response:
        try:
            return await fn(request)
        except errors.StorageError as e:
            return e.response(head=request.method == "HEAD")
        except ClientDisconnect:   # the client went away mid-upload: nothing was stored, nobody to answer
            return errors.invalid_request("Request stream closed before upload could complete").response()
        except Exception:
            log.exception("storage request failed: %s %s", request.method, request.url.path)
            return errors.StorageError(500, "InternalError", "Internal Server Error", "Internal").response()
    return wrapper


def json_response(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value, default=_default, separators=(",", ":")).encode(), status_code=status,
                    media_type="application/json; charset=utf-8")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso(value)
    return str(value)


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def json_body(request: Request) -> dict:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise errors.StorageError(413, "EntityTooLarge", "Request body is too large", "Payload Too Large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.invalid_request("Body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid_request("body must be object")
    return body


def valid_key(name: str) -> str:
    if not name or not _VALID_KEY.match(name):
        raise errors.invalid_key(name)
    return name


def valid_bucket_name(name: Any) -> str:
    if not isinstance(name, str) or not 0 < len(name) < 101 or not _VALID_BUCKET.match(name):
        raise errors.invalid_bucket_name(str(name))
    return name


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.I)
_UNITS = {"b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3}


def parse_size(value: Any) -> int | None:
    """`file_size_limit`: bytes as an integer, or a string such as "50MB" / "50MiB"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise errors.invalid_request("file_size_limit must be a number or a size such as 50MB")
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise errors.invalid_request("file_size_limit must be a number or a size such as 50MB")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])
