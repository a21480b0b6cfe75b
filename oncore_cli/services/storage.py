"""StorageService: files in Supabase Storage buckets (`/storage/v1`), over the CLI's own HTTP client.

Uploads stream from disk as a raw body (as storage-js sends a Buffer), so a large rider or stage plot is never held
in memory; downloads stream into a file. Errors are Storage's message as the project's typed errors (403 →
AuthError, 404 → NotFoundError, 409 → ConflictError, 413/415 → UsageError)."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator
from urllib.parse import quote

from oncore_cli.core.errors import UsageError, from_storage

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

CHUNK = 1024 * 1024
Progress = Callable[[int, int], None]   # (bytes sent so far, total bytes)


class StorageService:
    def __init__(self, api: Api) -> None:
        self.api = api

    def upload(self, bucket: str, path: str, file_or_bytes: str | os.PathLike | bytes | IO[bytes],
               content_type: str | None = None, upsert: bool = False, progress: Progress | None = None,
               cache_control: str | None = None) -> dict:
        """Store a file (a path, bytes or a binary file object) at `bucket/path`; returns `{"Id", "Key"}`.
        `content_type` defaults to what the file name says; an existing object is replaced only with `upsert`."""
        body = _Body(file_or_bytes, progress)
        if content_type is None:
            content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        headers = {"Content-Type": content_type, "Content-Length": str(body.size),
                   "x-upsert": "true" if upsert else "false"}
        if cache_control:
            headers["Cache-Control"] = cache_control
        try:
            return self._call("POST", f"/object/{_q(bucket)}/{_q(path)}", content=body, headers=headers)
        finally:
            body.close()

    def download(self, bucket: str, path: str, dest: str | os.PathLike | IO[bytes] | None = None) -> bytes | Path:
        """The object's bytes, or (with `dest`, a path or binary file) the bytes written there. A path is written
        whole or not at all (temp file + rename)."""
        route = f"/object/authenticated/{_q(bucket)}/{_q(path)}"
        if dest is None:
            return self._request("GET", route).content
        if hasattr(dest, "write"):
            self._request("GET", route, sink=dest)
            return dest   # type: ignore[return-value]
        target = Path(dest)
        temp = target.with_name(f".{target.name}.part")
        try:
            with open(temp, "wb") as sink:
                self._request("GET", route, sink=sink)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        return target

    def list(self, bucket: str, prefix: str = "", *, limit: int = 100, offset: int = 0, sort_by: str = "name",
             order: str = "asc", search: str = "") -> list[dict]:
        """One folder level under `prefix`: files (with `metadata.size`, `mimetype`...) and sub-folders (`id` null)."""
        body = {"prefix": prefix, "limit": limit, "offset": offset, "search": search,
                "sortBy": {"column": sort_by, "order": order}}
        return self._call("POST", f"/object/list/{_q(bucket)}", json=body) or []

    def remove(self, bucket: str, paths: list[str]) -> list[dict]:
        """Delete objects by exact name; returns the rows deleted (names the caller may not delete are skipped)."""
        if not paths:
            return []
        return self._call("DELETE", f"/object/{_q(bucket)}", json={"prefixes": list(paths)}) or []

    def signed_url(self, bucket: str, path: str, expires_in: int) -> str:
        """A URL anyone can GET for `expires_in` seconds, without credentials."""
        if expires_in < 1:
            raise UsageError("a signed URL must last at least one second")
        answer = self._call("POST", f"/object/sign/{_q(bucket)}/{_q(path)}", json={"expiresIn": int(expires_in)})
        route, _, query = answer["signedURL"].partition("?")   # Storage leaves the path unencoded (storage-js
        return f"{self.api.url}/storage/v1{_q(route)}?{query}"  # encodes it, as here)

    def _call(self, method: str, route: str, **kwargs) -> Any:
        response = self._request(method, route, **kwargs)
        return response.json() if response.content else None

    def _request(self, method: str, route: str, **kwargs):
        """One Storage call; Storage answers an expired token with 400 (not 401): refresh once and repeat."""
        response = self.api.request(method, "/storage/v1" + route, **kwargs)
        if response.status_code == 400 and _token_refused(response) and self.api._can_refresh():
            self.api.refresh()
            response = self.api.request(method, "/storage/v1" + route, **kwargs)
        if response.status_code >= 400:
            raise from_storage(response.status_code, _json(response))
        return response


def _json(response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _token_refused(response) -> bool:
    body = _json(response)
    message = str(body.get("message", "")).lower() if isinstance(body, dict) else ""
    return isinstance(body, dict) and str(body.get("statusCode")) == "403" and ("exp" in message or "jwt" in message)


def _q(value: str) -> str:
    return quote(value, safe="/")


class _Body:
    """A request body read in chunks, re-iterable (a refreshed token repeats the request), reporting progress."""

    def __init__(self, source, progress: Progress | None) -> None:
        self.progress = progress
        self._owned = False
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._data: bytes | None = bytes(source)
            self._file = None
            self.size = len(self._data)
        else:
            self._data = None
            if isinstance(source, (str, os.PathLike)):
                self._file, self._owned = open(source, "rb"), True
            else:
                self._file = source
            self._start = self._file.tell()
            self.size = self._file.seek(0, os.SEEK_END) - self._start   # file objects must be seekable
            self._file.seek(self._start)

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        if self._data is not None:
            for i in range(0, self.size, CHUNK):
                chunk = self._data[i:i + CHUNK]
                sent += len(chunk)
                self._report(sent)
                yield chunk
            if not self.size:
                self._report(0)
            return
        self._file.seek(self._start)
        while chunk := self._file.read(CHUNK):
            sent += len(chunk)
            self._report(sent)
            yield chunk

    def _report(self, sent: int) -> None:
        if self.progress:
            self.progress(sent, self.size)

    def close(self) -> None:
        if self._owned and self._file:
            self._file.close()
