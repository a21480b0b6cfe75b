"""Capture committed changes by logical decoding: a temporary replication slot with the built-in `pgoutput` plugin
streams the tables of the `supabase_realtime` publication, whole transactions in commit order, rows of any size.

Nothing is added to the project's schemas (no triggers, no queue table): the slot lives as long as the gateway's
replication connection. Values arrive in PostgreSQL's text output and are turned into what `to_jsonb` renders, as
Supabase Realtime sends them."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import struct
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import psycopg
from psycopg import pq

log = logging.getLogger("oncore.realtime")

PUBLICATION = "supabase_realtime"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
_PG_EPOCH_US = 946684800 * 1_000_000
_FEEDBACK_SECONDS = 5.0
_OFFSET = re.compile(r"([+-]\d\d)$")


@dataclass
class Relation:
    oid: int
    schema: str
    table: str
    replica_full: bool
    columns: list[tuple[str, int, bool]]          # (name, type oid, part of the key)
    types: list[str] = field(default_factory=list)  # pg_type.typname per column
    convert: list[Callable[[str], Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key_columns = [name for name, _, key in self.columns if key]


@dataclass
class Change:
    relation: Relation
    type: str                       # INSERT | UPDATE | DELETE
    record: dict[str, Any] | None
    old_record: dict[str, Any] | None
    commit_timestamp: str = ""
    unchanged_toast: list[str] | None = None   # columns the WAL left out (large, unchanged): read them back

    @property
    def key(self) -> tuple:
        key = self.__dict__.get("_key")
        if key is None:
            row = self.record if self.record is not None else self.old_record or {}
            key = self.__dict__["_key"] = tuple(row.get(name) for name in self.relation.key_columns)
        return key


class TypeCatalog:
    """pg_type names and how a text value of each type becomes JSON (as `to_jsonb` would render it)."""

    def __init__(self) -> None:
        self.types: dict[int, tuple[str, str, int]] = {}   # oid → (typname, typcategory, typelem)

    async def load(self, conn: psycopg.AsyncConnection) -> None:
        cur = await conn.execute("select oid::int, typname::text, typcategory::text, typelem::int "
                                 "from pg_catalog.pg_type")
        self.types = {oid: (name, cat, elem) for oid, name, cat, elem in await cur.fetchall()}

    def name(self, oid: int) -> str:
        return self.types.get(oid, (str(oid), "U", 0))[0]

    def converter(self, oid: int) -> Callable[[str], Any]:
        name, category, elem = self.types.get(oid, ("", "U", 0))
        if name in ("int2", "int4", "int8", "oid"):
            return int
        if name in ("float4", "float8", "numeric"):
            return _number
        if name == "bool":
            return _bool
        if name in ("json", "jsonb"):
            return json.loads
        if name in ("timestamptz", "timestamp"):
            return _timestamp
        if category == "A" and elem:
            element = self.converter(elem)
            return lambda text: _array(text, element)
        return str


def _number(text: str) -> Any:
    if text in ("NaN", "Infinity", "-Infinity"):
        return text
    if "." not in text and "e" not in text.lower():
        return int(text)
    return float(text)


def _bool(text: str) -> bool:
    return text == "t"


def _timestamp(text: str) -> str:
    # '2026-12-01 10:00:00.123+00' → '2026-12-01T10:00:00.123+00:00'
    return _OFFSET.sub(r"\1:00", text.replace(" ", "T", 1))


def _array(text: str, element: Callable[[str], Any]) -> Any:
    """A one-dimensional array literal (`{a,"b c",NULL}`) as a JSON list."""
    if not text.startswith("{"):
        return text
    items: list[Any] = []
    i, n = 1, len(text)
    while i < n and text[i] != "}":
        if text[i] == '"':
            j, buf = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    j += 1
                buf.append(text[j])
                j += 1
            items.append(element("".join(buf)))
            i = j + 1
        elif text[i] == "{":   # nested: keep as text (rare in this schema)
            depth, j = 0, i
            while True:
                depth += (text[j] == "{") - (text[j] == "}")
                j += 1
                if depth == 0:
                    break
            items.append(text[i:j])
            i = j
        else:
            j = i
            while text[j] not in ",}":
                j += 1
            raw = text[i:j]
            items.append(None if raw == "NULL" else element(raw))
            i = j
        if i < n and text[i] == ",":
            i += 1
    return items


class Decoder:
    """pgoutput protocol version 1 → Change lists, one per committed transaction."""

    def __init__(self, types: TypeCatalog) -> None:
        self.types = types
        self.relations: dict[int, Relation] = {}
        self.pending: list[Change] = []
        self.commit_ts = ""
        self.unknown_types = False
        self.on_relation: Callable[[Relation], None] | None = None

    def feed(self, msg: bytes) -> list[Change] | None:
        """Decode one message; returns the transaction's changes at its Commit."""
        kind = msg[0]
        if kind == 0x42:    # B: final LSN, commit timestamp, xid
            (us,) = struct.unpack_from(">q", msg, 9)
            self.commit_ts = _commit_timestamp(us)
            self.pending = []
        elif kind == 0x43:  # C
            changes, self.pending = self.pending, []
            for change in changes:
                change.commit_timestamp = self.commit_ts
            return changes
        elif kind == 0x52:  # R
            self._relation(msg)
        elif kind == 0x49:  # I
            (oid,) = struct.unpack_from(">I", msg, 1)
            rel = self.relations[oid]
            new, _ = self._tuple(rel, msg, 6)
            self.pending.append(Change(rel, "INSERT", new, None))
        elif kind == 0x55:  # U
            (oid,) = struct.unpack_from(">I", msg, 1)
            rel = self.relations[oid]
            pos, old = 5, None
            if msg[pos] in (0x4B, 0x4F):   # K (key) or O (old row)
                old, pos = self._tuple(rel, msg, pos + 1)
            new, _ = self._tuple(rel, msg, pos + 1, fill=old)
            if old is None:
                old = {name: new.get(name) for name in rel.key_columns}
            missing = [name for name, _, _ in rel.columns if name not in new]
            self.pending.append(Change(rel, "UPDATE", new, old, unchanged_toast=missing or None))
        elif kind == 0x44:  # D
            (oid,) = struct.unpack_from(">I", msg, 1)
            rel = self.relations[oid]
            old, _ = self._tuple(rel, msg, 6)
            self.pending.append(Change(rel, "DELETE", None, old))
        return None

    def _relation(self, msg: bytes) -> None:
        (oid,) = struct.unpack_from(">I", msg, 1)
        pos = 5
        schema, pos = _cstring(msg, pos)
        table, pos = _cstring(msg, pos)
        identity = msg[pos]
        (count,) = struct.unpack_from(">h", msg, pos + 1)
        pos += 3
        columns = []
        for _ in range(count):
            flags = msg[pos]
            name, pos = _cstring(msg, pos + 1)
            type_oid, _typmod = struct.unpack_from(">Ii", msg, pos)
            pos += 8
            columns.append((name, type_oid, bool(flags & 1)))
        rel = Relation(oid, schema, table, identity == ord("f"), columns)
        if any(t not in self.types.types for _, t, _ in columns):
            self.unknown_types = True
        self.bind(rel)
        self.relations[oid] = rel
        if self.on_relation is not None:   # sent after DDL too: cached table facts are stale
            self.on_relation(rel)

    def bind(self, rel: Relation) -> None:
        rel.types = [self.types.name(t) for _, t, _ in rel.columns]
        rel.convert = [self.types.converter(t) for _, t, _ in rel.columns]

    def _tuple(self, rel: Relation, msg: bytes, pos: int,
               fill: dict[str, Any] | None = None) -> tuple[dict[str, Any], int]:
        count = (msg[pos] << 8) | msg[pos + 1]
        pos += 2
        row: dict[str, Any] = {}
        columns, convert = rel.columns, rel.convert
        for i in range(count):
            name = columns[i][0]
            kind = msg[pos]
            pos += 1
            if kind == 0x74:    # t: text value
                size = int.from_bytes(msg[pos:pos + 4], "big")
                text = msg[pos + 4:pos + 4 + size].decode()
                pos += 4 + size
                row[name] = convert[i](text)
            elif kind == 0x6E:  # n: null
                row[name] = None
            elif kind == 0x75:  # u: unchanged TOASTed value, not in the WAL: the old row has it (replica identity full)
                if fill is not None and name in fill:
                    row[name] = fill[name]
        return row, pos


async def cancel(task: asyncio.Task | None) -> None:
    """Stop a background task and wait for it (its own error, if any, was logged where it happened)."""
    if task is not None:
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass


def _cstring(msg: bytes, pos: int) -> tuple[str, int]:
    end = msg.index(b"\x00", pos)
    return msg[pos:end].decode(), end + 1


def _commit_timestamp(us: int) -> str:
    moment = _PG_EPOCH + timedelta(microseconds=us)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ReplicationStream:
    """A replication connection streaming the publication; `on_commit(changes)` is called per transaction, in commit
    order, on the event loop."""

    def __init__(self, conninfo: str, catalog_conninfo: str, on_commit: Callable[[list[Change]], None]) -> None:
        self.conninfo = conninfo
        self.catalog_conninfo = catalog_conninfo
        self.on_commit = on_commit
        self.types = TypeCatalog()
        self.slot = f"oncore_realtime_{os.getpid()}"
        self._pgconn: pq.abc.PGconn | None = None
        self._task: asyncio.Task | None = None
        self.on_relation: Callable[[Relation], None] | None = None

    async def start(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.catalog_conninfo, autocommit=True) as conn:
            await self.types.load(conn)
        self._pgconn = await asyncio.to_thread(self._connect)
        self._task = asyncio.create_task(self._run())

    def _connect(self) -> pq.abc.PGconn:
        conn = pq.PGconn.connect(self.conninfo.encode())
        if conn.status != pq.ConnStatus.OK:
            raise psycopg.OperationalError(conn.get_error_message())
        for command in (f"CREATE_REPLICATION_SLOT {self.slot} TEMPORARY LOGICAL pgoutput",
                        f"START_REPLICATION SLOT {self.slot} LOGICAL 0/0 "
                        f"(proto_version '1', publication_names '{PUBLICATION}')"):
            res = conn.exec_(command.encode())
            if res.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COPY_BOTH):
                message = res.get_error_message() if hasattr(res, "get_error_message") else res.error_message
                raise psycopg.OperationalError(bytes(message).decode(errors="replace"))
        conn.nonblocking = 1
        return conn

    async def stop(self) -> None:
        await cancel(self._task)
        if self._pgconn is not None:
            self._pgconn.finish()

    async def _run(self) -> None:
        conn = self._pgconn
        assert conn is not None
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        loop.add_reader(conn.socket, readable.set)
        decoder = Decoder(self.types)
        decoder.on_relation = self.on_relation
        flushed = 0
        last_feedback = time.monotonic()
        try:
            while True:
                try:
                    await asyncio.wait_for(readable.wait(), _FEEDBACK_SECONDS)
                except asyncio.TimeoutError:
                    pass
                readable.clear()
                conn.consume_input()
                reply = False
                while True:
                    size, data = conn.get_copy_data(1)
                    if size == 0:
                        break
                    if size < 0:
                        raise psycopg.OperationalError("the replication stream ended: "
                                                       + conn.get_error_message().decode(errors="replace"))
                    view = memoryview(data)
                    if view[0] == 0x77:        # w: XLogData (start, end, clock) + a pgoutput message
                        (end,) = struct.unpack_from(">Q", view, 9)
                        changes = decoder.feed(bytes(view[25:]))
                        if decoder.unknown_types:   # a Relation message named a type created since start
                            await self._reload_types(decoder)
                        if changes is not None:
                            flushed = max(flushed, end)
                            if changes:
                                self.on_commit(changes)
                    elif view[0] == 0x6B:      # k: keepalive (end, clock, reply requested)
                        (end,) = struct.unpack_from(">Q", view, 1)
                        if not decoder.pending:
                            flushed = max(flushed, end)
                        reply = reply or bool(view[17])
                if reply or time.monotonic() - last_feedback > _FEEDBACK_SECONDS:
                    self._feedback(conn, flushed)
                    last_feedback = time.monotonic()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("realtime: the replication stream failed")
            raise
        finally:
            loop.remove_reader(conn.socket)

    async def _reload_types(self, decoder: Decoder) -> None:
        async with await psycopg.AsyncConnection.connect(self.catalog_conninfo, autocommit=True) as conn:
            await self.types.load(conn)
        for rel in decoder.relations.values():
            decoder.bind(rel)
        decoder.unknown_types = False

    @staticmethod
    def _feedback(conn: pq.abc.PGconn, lsn: int) -> None:
        now = int(time.time() * 1_000_000) - _PG_EPOCH_US
        conn.put_copy_data(b"r" + struct.pack(">QQQqB", lsn, lsn, lsn, now, 0))
        conn.flush()
