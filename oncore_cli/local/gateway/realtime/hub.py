"""Who receives what: postgres_changes bindings, the RLS check per subscriber, broadcast and presence fan-out.

Committed transactions are queued by the replication stream and delivered by one task, batch after batch, so every
socket sees changes in commit order. A batch's INSERT/UPDATE events are checked once per distinct identity (role +
claims): one REST-style transaction per identity (`set local role`, `request.jwt.claims`) asks which of the batch's
rows that user may SELECT, table by table, as Supabase Realtime's `apply_rls` does. DELETE events are not checked
(the row is gone); on RLS tables they carry only the primary key, as on Supabase."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import psycopg

from oncore_cli.local.gateway.realtime import filters as flt
from oncore_cli.local.gateway.realtime.capture import PUBLICATION, Change, Relation, TypeCatalog, cancel
from oncore_cli.local.gateway.rest import wire
from oncore_cli.local.gateway.rest.auth import Identity
from oncore_cli.local.gateway.rest.transaction import RequestContext, run_statements

if TYPE_CHECKING:
    from oncore_cli.local.gateway.realtime.socket import Channel

log = logging.getLogger("oncore.realtime")

_TABLE_INFO = """
select c.relrowsecurity,
       exists (select from pg_catalog.pg_publication_tables p
               where p.pubname = %(pub)s and p.schemaname = n.nspname and p.tablename = c.relname),
       coalesce((select json_agg(json_build_array(a.attname, a.atttypid::int,
                                                  pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                  a.attnum = any(i.indkey)) order by a.attnum)
                 from pg_catalog.pg_attribute a
                 left join pg_catalog.pg_index i on i.indrelid = c.oid and i.indisprimary
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '[]')
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relname = %(table)s and c.relkind in ('r', 'p')
"""


@dataclass
class TableInfo:
    schema: str
    table: str
    rls: bool
    published: bool
    columns: list[tuple[str, int, str, bool]]    # name, type oid, SQL type, in the primary key
    check_sql: bytes = b""

    @property
    def key(self) -> list[tuple[str, str]]:
        return [(name, sqltype) for name, _, sqltype, pk in self.columns if pk]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_sql(info: TableInfo) -> bytes:
    """Which of the given rows (`[{"i": n, "k0": pk value, ...}]`) the current role may SELECT."""
    keys = info.key
    record = ", ".join(["i int"] + [f"k{n} text" for n in range(len(keys))])
    where = " and ".join(f"t.{_ident(name)} = v.k{n}::{sqltype}" for n, (name, sqltype) in enumerate(keys))
    return (f"select coalesce(string_agg(v.i::text, ','), '') from jsonb_to_recordset($1::jsonb) as v({record}) "
            f"where exists (select 1 from {_ident(info.schema)}.{_ident(info.table)} t where {where})").encode()


@dataclass(eq=False)
class Binding:
    channel: "Channel"
    id: int
    event: str               # * | INSERT | UPDATE | DELETE
    schema: str
    table: str               # or *
    filters: list[flt.Compiled] = field(default_factory=list)

    def wants(self, change: Change) -> bool:
        if self.event != "*" and self.event != change.type:
            return False
        row = change.old_record if change.type == "DELETE" else change.record
        return flt.matches(self.filters, row)


def binding_id(binding: dict) -> int:
    """A stable non-zero id per binding (Realtime uses erlang:phash2 of the binding, in 0..2^27)."""
    text = json.dumps(binding, sort_keys=True, separators=(",", ":"))
    return zlib.crc32(text.encode()) % (1 << 27) or 1


class Hub:
    def __init__(self, db, types: TypeCatalog) -> None:
        self.db = db
        self.types = types
        self.tables: dict[tuple[str, str], TableInfo] = {}
        self.bindings: dict[tuple[str, str], list[Binding]] = defaultdict(list)   # (schema, table or *)
        self.topics: dict[str, set["Channel"]] = defaultdict(set)                  # broadcast/presence
        # topic → channel → (presence key, meta)
        self.presence: dict[str, dict["Channel", tuple[str, dict]]] = defaultdict(dict)
        self.queue: asyncio.Queue[list[Change]] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._columns_json: dict[int, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._deliver_forever())

    async def stop(self) -> None:
        await cancel(self._task)

    def on_commit(self, changes: list[Change]) -> None:
        self.queue.put_nowait(changes)

    def relation_changed(self, rel: Relation) -> None:
        self.tables.pop((rel.schema, rel.table), None)
        self._columns_json.pop(rel.oid, None)

    # -- table catalogue ---------------------------------------------------------------------------------------------
    async def table(self, schema: str, table: str) -> TableInfo | None:
        info = self.tables.get((schema, table))
        if info is None:
            async with self.db.admin.connection() as conn:
                cur = await conn.execute(_TABLE_INFO, {"pub": PUBLICATION, "schema": schema, "table": table})
                row = await cur.fetchone()
            if row is None:
                return None
            rls, published, columns = row
            info = TableInfo(schema, table, rls, published, [tuple(c) for c in columns])
            if info.key:
                info.check_sql = _check_sql(info)
            self.tables[(schema, table)] = info
        return info

    def converters(self, info: TableInfo) -> dict[str, Callable[[str], Any]]:
        return {name: self.types.converter(oid) for name, oid, _, _ in info.columns}

    # -- subscriptions -----------------------------------------------------------------------------------------------
    def subscribe(self, bindings: list[Binding]) -> None:
        for b in bindings:
            self.bindings[(b.schema, b.table)].append(b)

    def unsubscribe(self, channel: "Channel") -> None:
        for key in list(self.bindings):
            kept = [b for b in self.bindings[key] if b.channel is not channel]
            if kept:
                self.bindings[key] = kept
            else:
                del self.bindings[key]
        self.topics[channel.topic].discard(channel)
        if not self.topics[channel.topic]:
            del self.topics[channel.topic]
        self.untrack(channel)

    # -- postgres_changes --------------------------------------------------------------------------------------------
    async def _deliver_forever(self) -> None:
        while True:
            batch = await self.queue.get()
            while not self.queue.empty():
                batch = batch + self.queue.get_nowait()
            try:
                await self.deliver(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("realtime: delivering a batch of %d changes failed", len(batch))

    async def deliver(self, changes: list[Change]) -> None:
        if not self.bindings:
            return
        # (binding, the identity it is checked as) per change: a token refreshed meanwhile applies from the next batch
        wanted: list[list[tuple[Binding, Identity]]] = []
        # identity → table → [(change index, key)]
        checks: dict[Identity, dict[tuple[str, str], list[tuple[int, tuple]]]] = defaultdict(lambda: defaultdict(list))
        infos: dict[tuple[str, str], TableInfo | None] = {}
        for index, change in enumerate(changes):
            rel = change.relation
            candidates = [(b, b.channel.identity) for b in self.bindings.get((rel.schema, rel.table), ())
                          if b.wants(change)]
            candidates += [(b, b.channel.identity) for b in self.bindings.get((rel.schema, "*"), ()) if b.wants(change)]
            wanted.append(candidates)
            if candidates and change.type != "DELETE":
                for identity in {identity for _, identity in candidates}:
                    checks[identity][(rel.schema, rel.table)].append((index, change.key))
            if candidates and (rel.schema, rel.table) not in infos:
                infos[(rel.schema, rel.table)] = await self.table(rel.schema, rel.table)
        if not checks and not any(wanted):
            return
        await self._read_back_toast([c for c, w in zip(changes, wanted) if w and c.unchanged_toast], infos)
        identities = list(checks)
        results = await asyncio.gather(*(self._visible(i, checks[i], infos) for i in identities))
        visible = dict(zip(identities, results))
        for index, (change, candidates) in enumerate(zip(changes, wanted)):
            if not candidates:
                continue
            info = infos.get((change.relation.schema, change.relation.table))
            data = None
            per_channel: dict["Channel", list[int]] = {}
            for b, identity in candidates:
                if change.type != "DELETE" and index not in visible[identity]:
                    continue
                ids = per_channel.setdefault(b.channel, [])
                if b.id not in ids:
                    ids.append(b.id)
            for channel, ids in per_channel.items():
                if data is None:
                    data = self._data_json(change, info)
                channel.send_change(ids, data)

    async def _read_back_toast(self, changes: list[Change], infos: dict[tuple[str, str], TableInfo | None]) -> None:
        """An UPDATE that left a large (TOASTed) value alone does not carry it in the WAL: read it from the row, so
        every record goes out whole."""
        for change in changes:
            info = infos.get((change.relation.schema, change.relation.table))
            if info is None or not info.key:
                continue
            where = " and ".join(f"t.{_ident(name)} = %s::{sqltype}" for name, sqltype in info.key)
            columns = ", ".join(f"{_ident(c)}" for c in change.unchanged_toast or ())
            sql = (f"select to_jsonb(t) from (select {columns} from {_ident(info.schema)}.{_ident(info.table)} t "
                   f"where {where}) t")
            async with self.db.admin.connection() as conn:
                cur = await conn.execute(sql, [None if v is None else str(v) for v in change.key])
                row = await cur.fetchone()
            if row is not None and change.record is not None:
                change.record.update(row[0])

    async def _visible(self, identity: Identity, tables: dict[tuple[str, str], list[tuple[int, tuple]]],
                       infos: dict[tuple[str, str], TableInfo | None]) -> set[int]:
        statements, order = [], []
        for key, rows in tables.items():
            info = infos.get(key)
            if info is None or not info.check_sql:
                continue   # no primary key: nothing can be checked, nothing is sent (Realtime: Error 400)
            payload = [{"i": i, **{f"k{n}": None if v is None else str(v) for n, v in enumerate(k)}} for i, k in rows]
            statements.append((info.check_sql, [json.dumps(payload, separators=(",", ":"))]))
            order.append(key)
        if not statements:
            return set()
        ctx = RequestContext(identity, "GET", "/realtime/v1/websocket", "{}", "{}", {})
        try:
            results = await run_statements(self.db.rest, ctx, statements)
        except (psycopg.Error, Exception) as e:   # no privilege, expired claims: this identity sees nothing
            log.info("realtime: visibility check as %s refused: %s", identity.role, e)
            return set()
        seen: set[int] = set()
        for res in results:
            text = wire.row_values(res)[0]
            if text:
                seen.update(int(i) for i in text.split(","))
        return seen

    def _data_json(self, change: Change, info: TableInfo | None) -> str:
        rel = change.relation
        columns = self._columns_json.get(rel.oid)
        if columns is None:
            columns = json.dumps([{"name": name, "type": typ} for (name, _, _), typ in zip(rel.columns, rel.types)],
                                 separators=(",", ":"))
            self._columns_json[rel.oid] = columns
        parts = [f'"schema":{json.dumps(rel.schema)},"table":{json.dumps(rel.table)},'
                 f'"commit_timestamp":"{change.commit_timestamp}","type":"{change.type}","columns":{columns}']
        if change.record is not None:
            parts.append('"record":' + _dumps(change.record))
        if change.old_record is not None:
            old = change.old_record
            if change.type == "DELETE" and (info is None or info.rls):
                # not checked against RLS: only the identity goes out, as on Supabase
                old = {name: old.get(name) for name in rel.key_columns}
            parts.append('"old_record":' + _dumps(old))
        parts.append('"errors":null')
        return "{" + ",".join(parts) + "}"

    # -- broadcast and presence --------------------------------------------------------------------------------------
    def join_topic(self, channel: "Channel") -> None:
        self.topics[channel.topic].add(channel)

    def broadcast(self, topic: str, message: dict, sender: "Channel | None" = None, binary: bytes | None = None) -> int:
        count = 0
        for channel in list(self.topics.get(topic, ())):
            if channel is sender and not channel.broadcast_self:
                continue
            channel.send_broadcast(message, binary)
            count += 1
        return count

    def presence_state(self, topic: str) -> dict:
        state: dict[str, dict] = {}
        for key, meta in self.presence.get(topic, {}).values():
            state.setdefault(key, {"metas": []})["metas"].append(meta)
        return state

    def track(self, channel: "Channel", key: str, meta: dict) -> None:
        metas = self.presence[channel.topic]
        previous = metas.get(channel)
        leaves = {}
        if previous is not None:
            leaves = {previous[0]: {"metas": [previous[1]]}}
            meta = {**meta, "phx_ref_prev": previous[1]["phx_ref"]}
        metas[channel] = (key, meta)
        self._presence_diff(channel.topic, {key: {"metas": [meta]}}, leaves)

    def untrack(self, channel: "Channel") -> None:
        metas = self.presence.get(channel.topic)
        if not metas or channel not in metas:
            return
        key, meta = metas.pop(channel)
        if not metas:
            del self.presence[channel.topic]
        self._presence_diff(channel.topic, {}, {key: {"metas": [meta]}})

    def _presence_diff(self, topic: str, joins: dict, leaves: dict) -> None:
        for channel in list(self.topics.get(topic, ())):
            if channel.presence_enabled:
                channel.send_push("presence_diff", {"joins": joins, "leaves": leaves}, join_ref=False)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
