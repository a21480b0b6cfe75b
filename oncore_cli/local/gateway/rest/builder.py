"""SQL for a parsed request, shaped like PostgREST's: the rows are selected in a subquery and the whole response
body is built by PostgreSQL (`json_agg`), together with the page size and, when asked, the total count.

Every identifier is looked up in the schema cache before it is quoted with `sql.Identifier`; every value from the
request is a bound parameter (named placeholders, so fragments can be reused and composed in any order)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from oncore_cli.local.gateway.rest import operators
from oncore_cli.local.gateway.rest.errors import (PostgRESTError, column_not_found, no_relationship, where_required,
                                                  table_not_found, undefined_column)
from oncore_cli.local.gateway.rest.query import (Column, Condition, Embed, Filter, Level, LogicTree, OrderTerm,
                                                 ReadQuery, SelectItem, Star)
from oncore_cli.local.gateway.rest.schema_cache import ColumnInfo, Function, Relationship, SchemaCache, Table

MAX_ROWS = 1000  # Supabase's db-max-rows

TYPE_ALIASES = {
    "int": "int4", "integer": "int4", "bigint": "int8", "smallint": "int2", "boolean": "bool", "real": "float4",
    "double precision": "float8", "float": "float8", "decimal": "numeric", "character varying": "varchar",
    "character": "bpchar", "char": "bpchar", "timestamp": "timestamp", "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
    "time with time zone": "timetz", "time without time zone": "time",
}


@dataclass
class Source:
    """A relation rows are read from: a table/view, a CTE of mutated rows, or a function call."""
    table: Table | None
    columns: dict[str, ColumnInfo]
    from_sql: sql.Composable       # e.g. "public"."shows" AS "_t0"
    alias: str
    label: str                     # name used in error messages


@dataclass
class SelectTree:
    exprs: list[sql.Composable] = field(default_factory=list)
    joins: list[sql.Composable] = field(default_factory=list)          # every lateral join
    filter_joins: list[sql.Composable] = field(default_factory=list)   # the ones the WHERE depends on
    where: list[sql.Composable] = field(default_factory=list)
    order: list[sql.Composable] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    output_names: list[str] = field(default_factory=list)


@dataclass
class EmbedRef:
    lateral: str
    to_one: bool
    relationship: Relationship
    join: sql.Composable


@dataclass
class Statement:
    query: sql.Composed
    params: dict[str, Any]

    def sql_bytes(self) -> bytes:
        return self.query.as_bytes(None)


class SqlBuilder:
    def __init__(self, cache: SchemaCache, schema: str = "public") -> None:
        self.cache = cache
        self.schema = schema
        self.params: dict[str, Any] = {}
        self._aliases = 0

    # -- small helpers -----------------------------------------------------------------------------------------
    def param(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return sql.Placeholder(name)

    def new_alias(self) -> str:
        alias = f"_t{self._aliases}"
        self._aliases += 1
        return alias

    def table(self, name: str) -> Table:
        table = self.cache.table(self.schema, name)
        if table is None:
            raise table_not_found(self.schema, name)
        return table

    def table_source(self, table: Table) -> Source:
        alias = self.new_alias()
        from_sql = sql.SQL("{}.{} AS {}").format(sql.Identifier(table.schema), sql.Identifier(table.name),
                                                sql.Identifier(alias))
        return Source(table, table.columns, from_sql, alias, table.name)

    def column_ref(self, source: Source, name: str, json_path=()) -> sql.Composable:
        if name not in source.columns:
            raise undefined_column(source.label, name)
        if not json_path:
            return sql.Identifier(source.alias, name)
        # one flat list, not one nested fragment per step: rendering recurses into nested fragments
        parts: list[sql.Composable] = [sql.Identifier(source.alias, name)]
        for step in json_path:
            key = sql.Literal(step.key) if isinstance(step.key, int) else sql.SQL("{}::text").format(
                self.param(step.key))
            parts += [sql.SQL(step.arrow), key]
        return sql.Composed(parts)

    def cast_type(self, name: str) -> sql.Composable:
        text = " ".join(name.lower().split())
        array = text.endswith("[]")
        base = TYPE_ALIASES.get(text[:-2] if array else text, text[:-2] if array else text)
        if base not in self.cache.types:
            raise PostgRESTError(400, "42704", f'type "{name}" does not exist')
        return sql.SQL("{}{}").format(sql.Identifier(base), sql.SQL("[]" if array else ""))

    # -- select trees ------------------------------------------------------------------------------------------
    def select_tree(self, source: Source, items: list[SelectItem], query: ReadQuery,
                    paths: list[tuple[str, ...]], consumed: set[tuple[str, ...]]) -> SelectTree:
        tree = SelectTree()
        embeds: dict[str, EmbedRef] = {}
        for item in items:
            if isinstance(item, Star):
                for name in source.columns:
                    tree.exprs.append(sql.SQL("{} AS {}").format(sql.Identifier(source.alias, name),
                                                                sql.Identifier(name)))
                    tree.output_names.append(name)
            elif isinstance(item, Column):
                expr = self.column_ref(source, item.name, item.json_path)
                if item.cast:
                    expr = sql.SQL("CAST({} AS {})").format(expr, self.cast_type(item.cast))
                tree.exprs.append(sql.SQL("{} AS {}").format(expr, sql.Identifier(item.output_name)))
                tree.output_names.append(item.output_name)
            else:
                self.embed(source, item, query, paths, consumed, tree, embeds)
        level = self.merged_level(query, paths, consumed)
        for cond in level.conditions:
            tree.where.append(self.condition(source, cond, embeds, tree))
        for term in level.order:
            tree.order.append(self.order_term(source, term, embeds))
        tree.limit, tree.offset = level.limit, level.offset
        return tree

    def merged_level(self, query: ReadQuery, paths: list[tuple[str, ...]], consumed: set) -> Level:
        merged = Level()
        for path in paths:
            level = query.levels.get(path)
            if level is None or path in consumed:
                continue
            consumed.add(path)
            merged.conditions.extend(level.conditions)
            merged.order = merged.order or level.order
            merged.limit = level.limit if level.limit is not None else merged.limit
            merged.offset = level.offset if level.offset is not None else merged.offset
        return merged

    def relationship(self, source: Source, embed: Embed) -> Relationship:
        if source.table is None:
            raise no_relationship(source.label, embed.name, self.schema)
        rels = self.cache.relationships(source.table, embed.name)
        if embed.hint:
            hint = embed.hint
            rels = [r for r in rels if r.fk.name == hint or hint in r.fk.columns]
        if not rels:
            raise no_relationship(source.label, embed.name, self.schema)
        if len(rels) > 1:
            details = [{"cardinality": "many-to-one" if r.to_one else "one-to-many",
                        "embedding": f"{source.label} with {embed.name}",
                        "relationship": f"{r.fk.name} using {r.fk.table}({', '.join(r.fk.columns)}) and "
                                        f"{r.fk.ref_table}({', '.join(r.fk.ref_columns)})"} for r in rels]
            options = ", ".join(f"'{embed.name}!{r.fk.name}'" for r in rels)
            raise PostgRESTError(
                300, "PGRST201",
                f"Could not embed because more than one relationship was found for '{source.label}' and "
                f"'{embed.name}'", details,
                f"Try changing '{embed.name}' to one of the following: {options}. Find the desired relationship "
                "in the 'details' key.")
        return rels[0]

    def embed(self, source: Source, embed: Embed, query: ReadQuery, paths: list[tuple[str, ...]],
              consumed: set, tree: SelectTree, embeds: dict[str, EmbedRef]) -> None:
        rel = self.relationship(source, embed)
        child = self.table_source(rel.target)
        child_paths = [p + (key,) for p in paths for key in dict.fromkeys([embed.output_name, embed.name])]
        sub = self.select_tree(child, embed.select, query, child_paths, consumed)
        join_on = [sql.SQL("{} = {}").format(sql.Identifier(child.alias, tc), sql.Identifier(source.alias, sc))
                   for sc, tc in zip(rel.source_columns, rel.target_columns)]
        inner = self.select_sql(child, sub, join_on + sub.where, max_rows=None)
        lateral = self.new_alias()
        if embed.spread:
            if not rel.to_one:
                raise PostgRESTError(400, "PGRST127", "Feature not implemented",
                                     "Spreading a to-many relationship is not supported by this gateway")
            join = sql.SQL("LEFT JOIN LATERAL ({}) AS {} ON TRUE").format(inner, sql.Identifier(lateral))
            for name in sub.output_names:
                tree.exprs.append(sql.SQL("{} AS {}").format(sql.Identifier(lateral, name), sql.Identifier(name)))
                tree.output_names.append(name)
        else:
            agg = "row_to_json(_e)" if rel.to_one else "json_agg(_e)"
            join = sql.SQL("LEFT JOIN LATERAL (SELECT {} AS body FROM ({}) AS _e) AS {} ON TRUE").format(
                sql.SQL(agg), inner, sql.Identifier(lateral))
            if embed.select:
                body = sql.Identifier(lateral, "body")
                expr = body if rel.to_one else sql.SQL("coalesce({}, '[]'::json)").format(body)
                tree.exprs.append(sql.SQL("{} AS {}").format(expr, sql.Identifier(embed.output_name)))
                tree.output_names.append(embed.output_name)
        tree.joins.append(join)
        ref = EmbedRef(lateral, rel.to_one, rel, join)
        embeds[embed.output_name] = ref
        embeds.setdefault(embed.name, ref)
        if embed.join == "inner":
            tree.where.append(self.embed_present(ref, True))
            tree.filter_joins.append(join)

    def embed_present(self, ref: EmbedRef, present: bool) -> sql.Composable:
        """`!inner` and `rel=not.is.null`: the lateral body is NULL when no row matched (json_agg of nothing)."""
        column = sql.Identifier(ref.lateral, "body")
        return sql.SQL("{} IS NOT NULL" if present else "{} IS NULL").format(column)

    # -- filters -----------------------------------------------------------------------------------------------
    def condition(self, source: Source, cond: Condition, embeds: dict[str, EmbedRef],
                  tree: SelectTree) -> sql.Composable:
        if isinstance(cond, LogicTree):
            parts = [self.condition(source, child, embeds, tree) for child in cond.children]
            joined = sql.SQL(" AND " if cond.op == "and" else " OR ").join(parts)
            return sql.SQL("NOT ({})" if cond.negate else "({})").format(joined)
        return self.filter(source, cond, embeds, tree)

    def filter(self, source: Source, f: Filter, embeds: dict[str, EmbedRef], tree: SelectTree) -> sql.Composable:
        if f.column not in source.columns and f.column in embeds and not f.json_path:
            if f.op != "is" or f.value not in ("null", "not_null"):
                raise PostgRESTError(400, "PGRST120", "Bad operator on the '{}' embedded resource".format(f.column),
                                     "Only is null or not is null filters are allowed on embedded resources")
            ref = embeds[f.column]
            present = (f.value == "not_null") != f.negate
            if all(j is not ref.join for j in tree.filter_joins):
                tree.filter_joins.append(ref.join)
            return self.embed_present(ref, present)
        lhs = self.column_ref(source, f.column, f.json_path)
        column = source.columns[f.column]
        is_tsvector = column.type == "tsvector" and not f.json_path
        rendered = operators.render(f.op, f.value, f.modifier, lhs, self.param, is_tsvector=is_tsvector)
        return sql.SQL("NOT ({})").format(rendered) if f.negate else rendered

    # -- order -------------------------------------------------------------------------------------------------
    def order_term(self, source: Source, term: OrderTerm, embeds: dict[str, EmbedRef]) -> sql.Composable:
        if term.relation:
            ref = embeds.get(term.relation)
            if ref is None:
                raise PostgRESTError(400, "PGRST108", f"'{term.relation}' is not an embedded resource in this "
                                                      "request", None,
                                     f"Verify that '{term.relation}' is included in the 'select' query parameter.")
            if not ref.to_one:
                raise PostgRESTError(400, "PGRST118", f"A related order on '{term.relation}' is not possible",
                                     "The relationship is not to-one")
            rel = ref.relationship
            target = self.table_source(rel.target)
            col = self.column_ref(target, term.column, term.json_path)
            join_on = [sql.SQL("{} = {}").format(sql.Identifier(target.alias, tc), sql.Identifier(source.alias, sc))
                       for sc, tc in zip(rel.source_columns, rel.target_columns)]
            expr: sql.Composable = sql.SQL("(SELECT {} FROM {} WHERE {})").format(
                col, target.from_sql, sql.SQL(" AND ").join(join_on))
        else:
            expr = self.column_ref(source, term.column, term.json_path)
        parts = [expr]
        if term.direction:
            parts.append(sql.SQL(term.direction.upper()))
        if term.nulls:
            parts.append(sql.SQL("NULLS FIRST" if term.nulls == "nullsfirst" else "NULLS LAST"))
        return sql.SQL(" ").join(parts)

    # -- statements --------------------------------------------------------------------------------------------
    def select_sql(self, source: Source, tree: SelectTree, where: list[sql.Composable],
                   max_rows: int | None) -> sql.Composed:
        parts = [sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(tree.exprs), source.from_sql)]
        if tree.joins:
            parts.append(sql.SQL(" ").join(tree.joins))
        if where:
            parts.append(sql.SQL("WHERE {}").format(sql.SQL(" AND ").join(where)))
        if tree.order:
            parts.append(sql.SQL("ORDER BY {}").format(sql.SQL(", ").join(tree.order)))
        limit = tree.limit
        if max_rows is not None:
            limit = max_rows if limit is None else min(limit, max_rows)
        if limit is not None:
            parts.append(sql.SQL("LIMIT {}").format(sql.Literal(limit)))
        if tree.offset:
            parts.append(sql.SQL("OFFSET {}").format(sql.Literal(tree.offset)))
        return sql.SQL(" ").join(parts)

    def count_sql(self, source: Source, tree: SelectTree) -> sql.Composed:
        parts = [sql.SQL("SELECT count(*) FROM {}").format(source.from_sql)]
        if tree.filter_joins:
            parts.append(sql.SQL(" ").join(tree.filter_joins))
        if tree.where:
            parts.append(sql.SQL("WHERE {}").format(sql.SQL(" AND ").join(tree.where)))
        return sql.SQL(" ").join(parts)

    def root_tree(self, source: Source, query: ReadQuery) -> SelectTree:
        consumed: set[tuple[str, ...]] = set()
        tree = self.select_tree(source, query.select, query, [()], consumed)
        for path, level in query.levels.items():
            if path and path not in consumed and (level.conditions or level.order or level.limit is not None
                                                  or level.offset is not None):
                name = ".".join(path)
                raise PostgRESTError(400, "PGRST108", f"'{name}' is not an embedded resource in this request", None,
                                     f"Verify that '{name}' is included in the 'select' query parameter.")
        return tree


def catalog_sql(text: str) -> sql.SQL:
    """SQL text taken from the catalogs (a column default, a type name), never from the request."""
    return sql.SQL(text.replace("%", "%%"))


def body_expr(shape: str) -> sql.Composable:
    """How the page `_p` becomes the response body: array, single object, or stripped of nulls."""
    return sql.SQL({
        "array": "coalesce(json_agg(_p), '[]')::text",
        "array_stripped": "coalesce(json_strip_nulls(json_agg(_p)), '[]')::text",
        "object": "coalesce((json_agg(_p)->0)::text, '')",
        "object_stripped": "coalesce(json_strip_nulls(json_agg(_p)->0)::text, '')",
    }[shape])


# -- reads ---------------------------------------------------------------------------------------------------------

def build_read(cache: SchemaCache, schema: str, table_name: str, query: ReadQuery, *, count: bool,
               shape: str) -> Statement:
    b = SqlBuilder(cache, schema)
    source = b.table_source(b.table(table_name))
    tree = b.root_tree(source, query)
    page = b.select_sql(source, tree, tree.where, max_rows=MAX_ROWS)
    total = sql.SQL("({})").format(b.count_sql(source, tree)) if count else sql.SQL("NULL")
    # The aggregate's output is computed after the page was read, so these see GUCs set by functions in it.
    stmt = sql.SQL("SELECT {total}::bigint AS total, count(*) AS page_total, {body} AS body, "
                   "current_setting('response.status', true), current_setting('response.headers', true) "
                   "FROM ({page}) AS _p").format(total=total, body=body_expr(shape), page=page)
    return Statement(stmt, b.params)


# -- mutations -----------------------------------------------------------------------------------------------------

@dataclass
class Mutation:
    kind: str                            # insert | update | delete
    payload: Any = None                  # parsed JSON body (insert: list of objects; update: object)
    columns: list[str] = field(default_factory=list)
    representation: bool = False
    count: bool = False
    on_conflict: list[str] | None = None
    resolution: str | None = None        # merge-duplicates | ignore-duplicates
    missing_default: bool = False
    shape: str = "array"


def _mutation_output(b: SqlBuilder, table: Table, query: ReadQuery, m: Mutation, cte: sql.Composable,
                     track_inserted: bool) -> sql.Composed:
    if not m.representation:
        return sql.SQL("WITH pgrst_source AS ({cte}) SELECT {total}::bigint AS total, count(*) AS page_total, "
                       "''::text AS body, true AS inserted FROM pgrst_source").format(
            cte=cte, total=sql.SQL("count(*)") if m.count else sql.SQL("NULL"))
    alias = b.new_alias()
    source = Source(table, table.columns, sql.SQL("pgrst_source AS {}").format(sql.Identifier(alias)), alias,
                    table.name)
    consumed: set[tuple[str, ...]] = {()}   # the root's filters were applied to the mutation itself
    tree = b.select_tree(source, query.select, query, [()], consumed)
    tree.where, tree.order, tree.limit, tree.offset = [], [], None, None
    page = b.select_sql(source, tree, [], max_rows=None)
    inserted = (sql.SQL("(SELECT coalesce(bool_or(pgrst_inserted), false) FROM pgrst_source)") if track_inserted
                else sql.SQL("true"))
    return sql.SQL("WITH pgrst_source AS ({cte}) SELECT {total}::bigint AS total, count(*) AS page_total, "
                   "{body} AS body, {inserted} AS inserted FROM ({page}) AS _p").format(
        cte=cte, total=sql.SQL("count(*)") if m.count else sql.SQL("NULL"), body=body_expr(m.shape),
        inserted=inserted, page=page)


def _returning(alias: str, m: Mutation, track_inserted: bool) -> sql.Composable:
    if not m.representation:
        return sql.SQL("RETURNING 1")
    extra = sql.SQL(", ({}.xmax = 0) AS pgrst_inserted").format(sql.Identifier(alias)) if track_inserted else sql.SQL("")
    return sql.SQL("RETURNING {}.*{}").format(sql.Identifier(alias), extra)


def build_insert(cache: SchemaCache, schema: str, table_name: str, query: ReadQuery, m: Mutation) -> Statement:
    b = SqlBuilder(cache, schema)
    table = b.table(table_name)
    for name in m.columns:
        if name not in table.columns:
            raise column_not_found(name, table.name)
    alias = b.new_alias()
    target = sql.SQL("{}.{} AS {}").format(sql.Identifier(table.schema), sql.Identifier(table.name),
                                          sql.Identifier(alias))
    values = []
    for name in m.columns:
        value: sql.Composable = sql.Identifier("_r", name)
        if m.missing_default:
            default = table.columns[name].default
            value = sql.SQL("CASE WHEN _e.j ? {key} THEN {value} ELSE {default} END").format(
                key=sql.Literal(name), value=value, default=catalog_sql(default) if default else sql.SQL("NULL"))
        values.append(value)
    rows = sql.SQL(
        "SELECT {values} FROM jsonb_array_elements({payload}::jsonb) AS _e(j), "
        "jsonb_populate_record(NULL::{schema}.{table}, _e.j) AS _r").format(
        values=sql.SQL(", ").join(values), payload=b.param(json.dumps(m.payload)),
        schema=sql.Identifier(table.schema), table=sql.Identifier(table.name))
    conflict = sql.SQL("")
    track_inserted = False
    target_cols = m.on_conflict or table.primary_key
    if m.resolution and target_cols:
        for name in target_cols:
            if name not in table.columns:
                raise undefined_column(table.name, name)
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in target_cols)
        if m.resolution == "ignore-duplicates":
            conflict = sql.SQL("ON CONFLICT ({}) DO NOTHING").format(cols)
        else:
            updates = [sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in m.columns]
            conflict = (sql.SQL("ON CONFLICT ({}) DO UPDATE SET {}").format(cols, sql.SQL(", ").join(updates))
                        if updates else sql.SQL("ON CONFLICT ({}) DO NOTHING").format(cols))
            track_inserted = True
    if m.columns:
        cte = sql.SQL("INSERT INTO {target} ({cols}) {rows} {conflict} {returning}").format(
            target=target, cols=sql.SQL(", ").join(sql.Identifier(c) for c in m.columns), rows=rows,
            conflict=conflict, returning=_returning(alias, m, track_inserted))
    else:  # `{}`: a row of defaults
        cte = sql.SQL("INSERT INTO {target} DEFAULT VALUES {conflict} {returning}").format(
            target=target, conflict=conflict, returning=_returning(alias, m, track_inserted))
    return Statement(_mutation_output(b, table, query, m, cte, track_inserted and m.representation), b.params)


def build_update(cache: SchemaCache, schema: str, table_name: str, query: ReadQuery, m: Mutation) -> Statement:
    b = SqlBuilder(cache, schema)
    table = b.table(table_name)
    for name in m.columns:
        if name not in table.columns:
            raise column_not_found(name, table.name)
    source = b.table_source(table)
    where = _root_conditions(b, source, query)
    if not where:
        raise where_required("UPDATE")
    sets = [sql.SQL("{} = _r.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in m.columns]
    cte = sql.SQL("UPDATE {target} SET {sets} FROM jsonb_populate_record(NULL::{schema}.{table}, {payload}::jsonb) "
                  "AS _r WHERE {where} {returning}").format(
        target=source.from_sql, sets=sql.SQL(", ").join(sets), schema=sql.Identifier(table.schema),
        table=sql.Identifier(table.name), payload=b.param(json.dumps(m.payload)),
        where=sql.SQL(" AND ").join(where), returning=_returning(source.alias, m, False))
    return Statement(_mutation_output(b, table, query, m, cte, False), b.params)


def build_delete(cache: SchemaCache, schema: str, table_name: str, query: ReadQuery, m: Mutation) -> Statement:
    b = SqlBuilder(cache, schema)
    table = b.table(table_name)
    source = b.table_source(table)
    where = _root_conditions(b, source, query)
    if not where:
        raise where_required("DELETE")
    cte = sql.SQL("DELETE FROM {target} WHERE {where} {returning}").format(
        target=source.from_sql, where=sql.SQL(" AND ").join(where),
        returning=_returning(source.alias, m, False))
    return Statement(_mutation_output(b, table, query, m, cte, False), b.params)


def _root_conditions(b: SqlBuilder, source: Source, query: ReadQuery) -> list[sql.Composable]:
    tree = SelectTree()
    return [b.condition(source, cond, {}, tree) for cond in query.level(()).conditions]


# -- RPC -----------------------------------------------------------------------------------------------------------

def build_rpc(cache: SchemaCache, fn: Function, args: dict[str, Any], query: ReadQuery, *, count: bool,
              shape: str, single_json_arg: bool = False) -> tuple[Statement, str]:
    """Call `fn` with named arguments typed by the catalog (`json_to_record`), shaped by its return type.
    Returns the statement and the result kind: "void", "scalar", "setof_scalar", "object" or "rows"."""
    b = SqlBuilder(cache, fn.schema)
    fn_name = sql.SQL("{}.{}").format(sql.Identifier(fn.schema), sql.Identifier(fn.name))
    if single_json_arg:
        args_from = sql.SQL("(SELECT {}::{} AS j) AS _a").format(b.param(json.dumps(args)),
                                                                catalog_sql(fn.params[0].type))
        call = sql.SQL("{}(_a.j)").format(fn_name)
    elif args:
        params = [p for p in fn.params if p.name in args]
        record_def = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(p.name), catalog_sql(p.type))
                                        for p in params)
        named = sql.SQL(", ").join(sql.SQL("{} := _a.{}").format(sql.Identifier(p.name), sql.Identifier(p.name))
                                   for p in params)
        call = sql.SQL("{}({})").format(fn_name, named)
        args_from = sql.SQL("json_to_record({}::json) AS _a({})").format(b.param(json.dumps(args)), record_def)
    else:
        call = sql.SQL("{}()").format(fn_name)
        args_from = sql.SQL("(SELECT 1) AS _a")

    if fn.returns_void:
        stmt = sql.SQL("SELECT NULL::bigint AS total, 1 AS page_total, ''::text AS body, {call} AS pgrst_void "
                       "FROM {args_from}").format(call=call, args_from=args_from)
        return Statement(stmt, b.params), "void"
    if not fn.returns_composite:
        if fn.returns_set:
            root = query.level(())
            limit = MAX_ROWS if root.limit is None else min(root.limit, MAX_ROWS)
            page = sql.SQL("SELECT pgrst_scalar FROM pgrst_source LIMIT {} OFFSET {}").format(
                sql.Literal(limit), sql.Literal(root.offset or 0))
            total = sql.SQL("(SELECT count(*) FROM pgrst_source)") if count else sql.SQL("NULL")
            stmt = sql.SQL("WITH pgrst_source AS MATERIALIZED (SELECT _f.pgrst_scalar FROM {args_from} CROSS JOIN "
                           "LATERAL {call} AS _f(pgrst_scalar)) SELECT {total}::bigint AS total, count(*) AS "
                           "page_total, coalesce(json_agg(_p.pgrst_scalar), '[]')::text AS body FROM ({page}) AS _p"
                           ).format(call=call, args_from=args_from, total=total, page=page)
            return Statement(stmt, b.params), "setof_scalar"
        stmt = sql.SQL("SELECT NULL::bigint AS total, 1 AS page_total, coalesce(to_json({call})::text, 'null') "
                       "AS body FROM {args_from}").format(call=call, args_from=args_from)
        return Statement(stmt, b.params), "scalar"

    table = cache.tables.get(tuple(fn.return_table.split(".", 1))) if fn.return_table else None
    columns = table.columns if table else {c: ColumnInfo(c, "unknown", True, None) for c in fn.out_columns}
    alias = b.new_alias()
    # The call is materialised once in a CTE, so the page and the count read the same rows and a volatile
    # function runs exactly once.
    source_cte = sql.SQL("WITH pgrst_source AS MATERIALIZED (SELECT _f.* FROM {args_from} CROSS JOIN LATERAL "
                         "{call} AS _f) ").format(call=call, args_from=args_from)
    from_sql = sql.SQL("pgrst_source AS {}").format(sql.Identifier(alias))
    source = Source(table, columns, from_sql, alias, fn.name)
    tree = b.root_tree(source, query)
    page = b.select_sql(source, tree, tree.where, max_rows=MAX_ROWS if fn.returns_set else None)
    total = sql.SQL("({})").format(b.count_sql(source, tree)) if count else sql.SQL("NULL")
    kind = "rows" if fn.returns_set else "object"
    body = sql.SQL("coalesce((json_agg(_p)->0)::text, 'null')") if kind == "object" else body_expr(shape)
    stmt = sql.SQL("{cte}SELECT {total}::bigint AS total, count(*) AS page_total, {body} AS body "
                   "FROM ({page}) AS _p").format(cte=source_cte, total=total, body=body, page=page)
    return Statement(stmt, b.params), kind
