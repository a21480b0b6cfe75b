"""The upload body: multipart/form-data (supabase-py, storage-js with a Blob or FormData) or raw bytes
(storage-js with a Buffer), read as a stream. Fields sent before the file (`cacheControl`, `metadata`,
`contentType`) are kept; the first file part is the object; nothing is held in memory beyond one chunk."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import AsyncIterator

from oncore_cli.local.gateway.storage import errors

MAX_FIELD_BYTES = 1024 * 1024   # Storage refuses user metadata over 1 MiB
MAX_HEADER_BYTES = 16 * 1024
_PARAM = re.compile(r';\s*([a-zA-Z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def header_params(value: str) -> tuple[str, dict[str, str]]:
    main = value.split(";", 1)[0].strip().lower()
    params = {}
    for key, raw in _PARAM.findall(value):
        raw = raw.strip()
        if raw.startswith('"') and raw.endswith('"'):
            raw = raw[1:-1].replace('\\"', '"')
        params[key.lower()] = raw
    return main, params


@dataclass
class FilePart:
    """The object's announced type and the form fields that preceded it; `body` yields its bytes."""
    content_type: str | None
    fields: dict[str, str] = field(default_factory=dict)
    body: AsyncIterator[bytes] | None = None


class MultipartReader:
    def __init__(self, stream: AsyncIterator[bytes], boundary: str) -> None:
        self.stream = stream
        self.delimiter = b"\r\n--" + boundary.encode("latin-1")
        self.buffer = b"\r\n"   # the first delimiter has no CRLF before it
        self.done = False

    async def _more(self) -> bool:
        if self.done:
            return False
        try:
            chunk = await self.stream.__anext__()
        except StopAsyncIteration:
            self.done = True
            return False
        self.buffer += chunk
        return True

    async def _skip_to_delimiter(self) -> bool:
        """Discard up to and including the next delimiter; False at the closing one or the end of the body."""
        while True:
            at = self.buffer.find(self.delimiter)
            if at >= 0:
                self.buffer = self.buffer[at + len(self.delimiter):]
                break
            self.buffer = self.buffer[-len(self.delimiter):]
            if not await self._more():
                return False
        while len(self.buffer) < 2:
            if not await self._more():
                return False
        return not self.buffer.startswith(b"--")

    async def _headers(self) -> dict[str, str]:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > MAX_HEADER_BYTES or not await self._more():
                raise errors.invalid_request("Malformed multipart body")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n")[1:]:   # [0]: the rest of the delimiter line
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return headers

    async def _data(self) -> AsyncIterator[bytes]:
        """The current part's bytes, up to (not including) the next delimiter."""
        keep = len(self.delimiter)
        while True:
            at = self.buffer.find(self.delimiter)
            if at >= 0:
                if at:
                    yield self.buffer[:at]
                self.buffer = self.buffer[at:]
                return
            if len(self.buffer) > keep:
                out, self.buffer = self.buffer[:-keep], self.buffer[-keep:]
                yield out
            if not await self._more():
                raise errors.invalid_request("Malformed multipart body")

    async def file(self) -> FilePart:
        fields: dict[str, str] = {}
        while await self._skip_to_delimiter():
            headers = await self._headers()
            _, disposition = header_params(headers.get("content-disposition", ""))
            if "filename" in disposition or "filename*" in disposition or "content-type" in headers \
                    and disposition.get("name") not in ("cacheControl", "metadata", "userMetadata", "contentType"):
                return FilePart(headers.get("content-type"), fields, self._data())
            value = b""
            async for chunk in self._data():
                value += chunk
                if len(value) > MAX_FIELD_BYTES:
                    raise errors.too_large("user_metadata")
            if len(fields) < 10:   # Storage's multipart limit: 10 fields
                fields[disposition.get("name", "")] = value.decode("utf-8", "replace")
        raise errors.invalid_request("No content provided")
