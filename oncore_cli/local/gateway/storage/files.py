"""Object bytes on disk, under `<data dir>/storage/`.

Each upload is a new *version* (a uuid, as Storage's `objects.version`): bytes stream into `tmp/`, are fsynced, and
are renamed to `objects/<key>/<version>` before the row naming that version commits; the previous version's file is
removed after the commit. A crash therefore leaves at worst an unreferenced file (swept at start-up), never a half
file and never a row without its file. Version files are never modified, so a copy is a hard link.
`<key>` is a hash of bucket and name: object names may hold anything S3 allows, none of it reaches the file system."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from pathlib import Path
from typing import AsyncIterator, Iterable

CHUNK = 1024 * 1024


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.objects = root / "objects"

    def prepare(self) -> None:
        for path in (self.tmp, self.objects):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        for leftover in self.tmp.iterdir():   # uploads a crash interrupted
            leftover.unlink(missing_ok=True)

    @staticmethod
    def key(bucket: str, name: str) -> str:
        return hashlib.sha256(f"{bucket}/{name}".encode()).hexdigest()

    def path(self, bucket: str, name: str, version: str) -> Path:
        key = self.key(bucket, name)
        return self.objects / key[:2] / key / version

    def new_temp(self) -> Path:
        return self.tmp / uuid.uuid4().hex

    def publish(self, temp: Path, bucket: str, name: str) -> str:
        """Move a complete, fsynced temp file into place as a new version; return the version."""
        version = str(uuid.uuid4())
        target = self.path(bucket, name, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        _fsync(target.parent)
        return version

    def link(self, src: Path, bucket: str, name: str) -> str:
        """A new version of (bucket, name) holding the same bytes as `src` (move and copy)."""
        version = str(uuid.uuid4())
        target = self.path(bucket, name, version)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, target)
        except OSError:   # file systems without hard links
            temp = self.new_temp()
            shutil.copyfile(src, temp)
            _fsync(temp)
            os.replace(temp, target)
        _fsync(target.parent)
        return version

    def discard(self, bucket: str, name: str, version: str | None) -> None:
        if version:
            path = self.path(bucket, name, version)
            path.unlink(missing_ok=True)
            try:
                path.parent.rmdir()
            except OSError:
                pass

    def sweep(self, referenced: Iterable[tuple[str, str, str]]) -> int:
        """Remove version files no row names (left by a crash between rename and commit); return how many."""
        keep = {self.path(b, n, v) for b, n, v in referenced}
        removed = 0
        for path in self.objects.glob("*/*/*"):
            if path not in keep:
                path.unlink(missing_ok=True)
                removed += 1
        for folder in self.objects.glob("*/*"):
            try:
                folder.rmdir()
            except OSError:
                pass
        return removed


def _fsync(path: Path) -> None:
    """A file's bytes, or a directory's entries (a rename), on disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class TempWriter:
    """Writes a stream into a temp file with its md5 and size. Chunks are gathered to CHUNK bytes and written (and
    hashed) in a worker thread while the next ones arrive: at most one write in flight."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        self._file = open(path, "wb", buffering=0)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._inflight: asyncio.Future | None = None

    def exceeded(self, more: int) -> bool:
        return self.size + more > self.limit

    async def write(self, data: bytes) -> None:
        self.size += len(data)
        self._pending.append(data)
        self._pending_size += len(data)
        if self._pending_size >= CHUNK:
            await self._flush()

    async def _flush(self) -> None:
        if self._inflight is not None:
            await self._inflight
            self._inflight = None
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            self._inflight = asyncio.get_running_loop().run_in_executor(None, self._write, data)

    def _write(self, data: bytes) -> None:
        self.md5.update(data)
        self._file.write(data)

    async def finish(self) -> None:
        """Everything written and on disk (fsync), the file closed."""
        await self._flush()
        if self._inflight is not None:
            await self._inflight
            self._inflight = None
        await asyncio.to_thread(os.fsync, self._file.fileno())
        self._file.close()

    def abort(self) -> None:
        if self._inflight is not None:
            self._inflight.add_done_callback(lambda _: self._close_and_unlink())
        else:
            self._close_and_unlink()

    def _close_and_unlink(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


async def read_range(fd: int, start: int, length: int) -> AsyncIterator[bytes]:
    """Chunks of an open file descriptor, read in a worker thread one chunk ahead of the one being sent."""
    loop = asyncio.get_running_loop()
    end = start + length

    def read(offset: int):
        return loop.run_in_executor(None, os.pread, fd, min(CHUNK, end - offset), offset) if offset < end else None

    offset, ahead = start, read(start)
    while ahead is not None:
        data = await ahead
        if not data:
            break
        offset += len(data)
        ahead = read(offset)
        yield data
