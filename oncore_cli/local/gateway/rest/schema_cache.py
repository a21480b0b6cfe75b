"""The schema cache: tables, views, columns, primary keys, foreign keys and functions of the exposed schemas,
read from the catalogs at startup and again on `NOTIFY pgrst, 'reload schema'` (as PostgREST does).

Not modelled (yet): relationships of views inferred from their base tables, and many-to-many embedding through
junction tables."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import psycopg

log = logging.getLogger("oncore.gateway.rest")

EXPOSED_SCHEMAS = ["public"]


@dataclass
class ColumnInfo:
    name: str
    type: str              # format_type(): "uuid", "text", "timestamp with time zone", "integer[]"
    nullable: bool
    default: str | None    # pg_get_expr() of the default, catalog text
    generated: bool = False


@dataclass
class ForeignKey:
    name: str
    schema: str
    table: str
    columns: list[str]
    ref_schema: str
    ref_table: str
    ref_columns: list[str]


@dataclass
class Table:
    schema: str
    name: str
    kind: str                                   # r table, v view, m matview, f foreign, p partitioned
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    primary_key: list[str] = field(default_factory=list)
    unique_keys: list[list[str]] = field(default_factory=list)
    insertable: bool = True

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class FunctionParam:
    name: str
    type: str
    has_default: bool


@dataclass
class Function:
    schema: str
    name: str
    params: list[FunctionParam]
    return_type: str                   # format_type() of the return type
    returns_set: bool
    returns_composite: bool            # a row type (table, composite, or OUT/TABLE columns)
    returns_void: bool
    volatility: str                    # "i" immutable, "s" stable, "v" volatile
    return_table: str | None = None    # "schema.name" when the rows are a table's rows (embeddable)
    out_columns: list[str] = field(default_factory=list)

    @property
    def required(self) -> set[str]:
        return {p.name for p in self.params if not p.has_default}

    @property
    def names(self) -> set[str]:
        return {p.name for p in self.params}


@dataclass
class Relationship:
    """A way to embed `target` under `source`; `to_one` decides object vs array."""
    source: Table
    target: Table
    fk: ForeignKey
    to_one: bool
    source_columns: list[str]
    target_columns: list[str]


@dataclass
class SchemaCache:
    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    functions: dict[tuple[str, str], list[Function]] = field(default_factory=dict)
    role_settings: dict[str, dict[str, str]] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)

    def table(self, schema: str, name: str) -> Table | None:
        return self.tables.get((schema, name))

    def relationships(self, source: Table, target_name: str) -> list[Relationship]:
        """Foreign keys joining `source` with the table or view called `target_name` (either direction)."""
        found = []
        for fk in self.foreign_keys:
            if (fk.schema, fk.table) == (source.schema, source.name) and fk.ref_table == target_name:
                target = self.tables.get((fk.ref_schema, fk.ref_table))
                if target:
                    found.append(Relationship(source, target, fk, True, fk.columns, fk.ref_columns))
            if (fk.ref_schema, fk.ref_table) == (source.schema, source.name) and fk.table == target_name:
                target = self.tables.get((fk.schema, fk.table))
                if target:
                    # one-to-one when the FK columns are exactly the target's primary key or a unique key
                    keys = [target.primary_key, *target.unique_keys]
                    to_one = any(k and sorted(fk.columns) == sorted(k) for k in keys)
                    found.append(Relationship(source, target, fk, to_one, fk.ref_columns, fk.columns))
        return found


_TABLES_SQL = """
select n.nspname, c.relname, c.relkind::text,
       c.relkind in ('r','p') or (c.relkind in ('v','f') and pg_relation_is_updatable(c.oid, true) & 8 = 8)
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s) and c.relkind in ('r','v','m','f','p')
"""

_COLUMNS_SQL = """
select n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), not a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> ''
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where n.nspname = any(%(schemas)s) and c.relkind in ('r','v','m','f','p') and a.attnum > 0 and not a.attisdropped
order by n.nspname, c.relname, a.attnum
"""

_KEYS_SQL = """
select con.conname, con.contype::text, n.nspname, c.relname,
       array(select a.attname from unnest(con.conkey) with ordinality k(num, ord)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num order by k.ord)::text[],
       fn.nspname, fc.relname,
       array(select a.attname from unnest(con.confkey) with ordinality k(num, ord)
             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num order by k.ord)::text[]
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_class fc on fc.oid = con.confrelid
left join pg_namespace fn on fn.oid = fc.relnamespace
where con.contype in ('p', 'u', 'f') and n.nspname = any(%(schemas)s)
"""

_FUNCTIONS_SQL = """
select n.nspname, p.proname, coalesce(p.proargnames, '{}')::text[],
       coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs])),
       array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) t)::text[],
       p.pronargdefaults, format_type(p.prorettype, null), p.proretset, p.provolatile::text,
       t.typtype::text, rt_n.nspname, rt_c.relname, rt_c.relkind::text, p.prorettype = 'void'::regtype
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
left join pg_class rt_c on rt_c.oid = t.typrelid
left join pg_namespace rt_n on rt_n.oid = rt_c.relnamespace
where n.nspname = any(%(schemas)s) and p.prokind in ('f', 'p')
"""

_ROLE_SETTINGS_SQL = """
select r.rolname, s.setconfig
from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
where s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
order by s.setdatabase  -- database-specific settings come last and win
"""

_TYPES_SQL = """
select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
where n.nspname in ('pg_catalog', 'extensions') or n.nspname = any(%(schemas)s)
"""


async def load(conn: psycopg.AsyncConnection, schemas: list[str] = EXPOSED_SCHEMAS) -> SchemaCache:
    cache = SchemaCache()
    args = {"schemas": schemas}
    async with conn.cursor() as cur:
        await cur.execute(_TABLES_SQL, args)
        for schema, name, kind, insertable in await cur.fetchall():
            cache.tables[(schema, name)] = Table(schema, name, kind, insertable=bool(insertable))
        await cur.execute(_COLUMNS_SQL, args)
        for schema, table, name, type_, nullable, default, generated in await cur.fetchall():
            t = cache.tables.get((schema, table))
            if t:
                t.columns[name] = ColumnInfo(name, type_, nullable, default, generated)
        await cur.execute(_KEYS_SQL, args)
        for conname, contype, schema, table, cols, ref_schema, ref_table, ref_cols in await cur.fetchall():
            t = cache.tables.get((schema, table))
            if contype == "p" and t:
                t.primary_key = list(cols)
            elif contype == "u" and t:
                t.unique_keys.append(list(cols))
            elif contype == "f":
                cache.foreign_keys.append(ForeignKey(conname, schema, table, list(cols), ref_schema, ref_table,
                                                     list(ref_cols)))
        await cur.execute(_FUNCTIONS_SQL, args)
        for row in await cur.fetchall():
            fn = _function(row)
            cache.functions.setdefault((fn.schema, fn.name), []).append(fn)
        await cur.execute(_ROLE_SETTINGS_SQL)
        for role, config in await cur.fetchall():
            settings = cache.role_settings.setdefault(role, {})
            for item in config or []:
                key, _, value = item.partition("=")
                settings[key] = value
        await cur.execute(_TYPES_SQL, args)
        cache.types = {r[0] for r in await cur.fetchall()}
    return cache


def _function(row) -> Function:
    (schema, name, argnames, argmodes, argtypes, ndefaults, rettype, retset, volatility, typtype, rt_schema,
     rt_table, rt_kind, is_void) = row
    params: list[FunctionParam] = []
    out_columns: list[str] = []
    inputs = [(i, argnames[i] if i < len(argnames) else "", argtypes[i]) for i, m in enumerate(argmodes)
              if m in ("i", "b", "v")]
    out_columns = [argnames[i] for i, m in enumerate(argmodes) if m in ("o", "b", "t") and i < len(argnames)]
    first_default = len(inputs) - (ndefaults or 0)
    for position, (_, pname, ptype) in enumerate(inputs):
        params.append(FunctionParam(pname, ptype, position >= first_default))
    composite = typtype == "c" or (rettype == "record" and bool(out_columns))
    return_table = f"{rt_schema}.{rt_table}" if rt_table and rt_kind in ("r", "v", "m", "f", "p") else None
    return Function(schema, name, params, rettype, bool(retset), composite, bool(is_void), volatility,
                    return_table, out_columns)


class SchemaCacheHolder:
    """The current cache plus the LISTEN task that reloads it on `NOTIFY pgrst, 'reload schema'`."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.cache = SchemaCache()
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self.loads = 0

    async def reload(self) -> SchemaCache:
        async with self._lock:
            async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                self.cache = await load(conn)
            self.loads += 1
            return self.cache

    async def start(self) -> None:
        await self.reload()
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _listen(self) -> None:
        reconnecting = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute("listen pgrst")
                    if reconnecting:
                        await self.reload()  # whatever changed while we were not listening
                    async for notice in conn.notifies():
                        if notice.payload in ("", "reload schema"):
                            await self.reload()
                            log.info("schema cache reloaded")
            except asyncio.CancelledError:
                raise
            except Exception as e:  # connection lost: retry, as PostgREST's listener does
                log.warning("schema cache listener: %s", e)
                reconnecting = True
                await asyncio.sleep(1)
