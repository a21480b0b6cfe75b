"""The Storage gateway's pieces that need no server: the streaming multipart reader (delimiters split across
chunks at every offset), size strings, mime checks, and the start-up sweep of files no row refers to."""

from __future__ import annotations

import asyncio

import pytest

from oncore_cli.local.gateway.storage import errors
from oncore_cli.local.gateway.storage.common import parse_size
from oncore_cli.local.gateway.storage.files import FileStore
from oncore_cli.local.gateway.storage.multipart import MultipartReader
from oncore_cli.local.gateway.storage.uploads import check_mime

BOUNDARY = "----oncoreBoundary42"
PAYLOAD = b"line one\r\n--not-the-boundary\r\n\r\n" + bytes(range(256)) * 3 + b"\r\n--" + BOUNDARY.encode()[:-1]


def body(payload: bytes = PAYLOAD) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"cacheControl\"\r\n\r\n3600\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{{\"a\": 1}}\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + payload + f"\r\n--{BOUNDARY}--\r\n".encode()


async def chunks(data: bytes, size: int):
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def read(data: bytes, size: int):
    part = await MultipartReader(chunks(data, size).__aiter__(), BOUNDARY).file()
    content = b"".join([c async for c in part.body])
    return part, content


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 41, 64, 1000, 10_000])
def test_multipart_file_and_fields_whatever_the_chunking(size):
    part, content = asyncio.run(read(body(), size))
    assert content == PAYLOAD
    assert part.content_type == "application/pdf"
    assert part.fields == {"cacheControl": "3600", "metadata": '{"a": 1}'}


def test_multipart_truncated_body_is_an_error():
    data = body()[:-60]

    async def run():
        part = await MultipartReader(chunks(data, 100).__aiter__(), BOUNDARY).file()
        return [c async for c in part.body]

    with pytest.raises(errors.StorageError, match="Malformed multipart body"):
        asyncio.run(run())


def test_multipart_without_a_file_part():
    data = f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"cacheControl\"\r\n\r\n1\r\n--{BOUNDARY}--\r\n"
    with pytest.raises(errors.StorageError, match="No content provided"):
        asyncio.run(read(data.encode(), 10))


@pytest.mark.parametrize(("value", "expected"), [
    (1024, 1024), ("50MB", 50_000_000), ("50MiB", 50 * 1024 * 1024), ("1 gb", 10 ** 9), ("12", 12), (None, None)])
def test_sizes(value, expected):
    assert parse_size(value) == expected


def test_bad_size():
    with pytest.raises(errors.StorageError):
        parse_size("lots")


@pytest.mark.parametrize(("mime", "allowed", "ok"), [
    ("image/png", ["image/*"], True), ("image/png", ["image/png"], True), ("text/plain;charset=UTF-8", ["text/plain"], False),
    ("text/plain;charset=UTF-8", ["text/*"], True),
    ("text/plain", ["image/*"], False), ("png", ["image/*"], False), ("anything/x", [], True)])
def test_mime_check(mime, allowed, ok):
    if ok:
        check_mime(mime, allowed)
    else:
        with pytest.raises(errors.StorageError) as caught:
            check_mime(mime, allowed)
        assert caught.value.status == 415


def test_sweep_keeps_referenced_versions_only(tmp_path):
    files = FileStore(tmp_path)
    files.prepare()
    kept = files.path("b", "a/kept.txt", "v1")
    orphan = files.path("b", "a/kept.txt", "v0")      # replaced, but a crash came before its removal
    lost = files.path("b", "never-committed.txt", "v9")
    for path in (kept, orphan, lost):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    (files.tmp / "half-upload").write_bytes(b"x")
    assert files.sweep([("b", "a/kept.txt", "v1")]) == 2
    files.prepare()
    assert kept.exists() and not orphan.exists() and not lost.exists() and not lost.parent.exists()
    assert not any(files.tmp.iterdir())
