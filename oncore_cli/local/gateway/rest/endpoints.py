"""/rest/v1 endpoints: request → parse → build SQL → one transaction → PostgREST-shaped response."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from oncore_cli.local.gateway.rest import builder, transaction, wire
from oncore_cli.local.gateway.rest.auth import Authenticator, Identity
from oncore_cli.local.gateway.rest.errors import (PostgRESTError, invalid_body, invalid_range, not_acceptable,
                                                  schema_not_exposed, singular, table_not_found)
from oncore_cli.local.gateway.rest.query import Prefer, parse_prefer, parse_query, parse_range_header
from oncore_cli.local.gateway.rest.schema_cache import EXPOSED_SCHEMAS, Function, SchemaCacheHolder

log = logging.getLogger("oncore.gateway.rest")

JSON_TYPE = "application/json; charset=utf-8"
OBJECT_TYPE = "application/vnd.pgrst.object+json; charset=utf-8"
CSV_TYPE = "text/csv; charset=utf-8"
_PLAN_CACHE_SIZE = 512
_MISS_RELOAD_INTERVAL = 1.0   # a cache miss reloads the schema cache at most once a second


@dataclass
class Plan:
    """A read's SQL rendered once per distinct query string (the text is identical, so prepared statements hit)."""
    query: bytes
    params: dict[str, Any]
    offset: int


class RestState:
    def __init__(self, holder: SchemaCacheHolder, secret: str) -> None:
        self.holder = holder
        self.auth = Authenticator(secret)
        self.plans: OrderedDict[tuple, Plan] = OrderedDict()
        self._last_miss_reload = 0.0

    async def reload_after_miss(self) -> bool:
        """Reload the cache after an unknown table/function, throttled so unknown names cannot flood the DB."""
        now = time.monotonic()
        if now - self._last_miss_reload < _MISS_RELOAD_INTERVAL:
            return False
        self._last_miss_reload = now
        await self.holder.reload()
        self.plans.clear()
        return True


# -- request basics ------------------------------------------------------------------------------------------------

def profile(request: Request) -> str:
    header = "accept-profile" if request.method in ("GET", "HEAD") else "content-profile"
    schema = request.headers.get(header)
    if schema is None or schema == "":
        return EXPOSED_SCHEMAS[0]
    if schema not in EXPOSED_SCHEMAS:
        raise schema_not_exposed(schema, EXPOSED_SCHEMAS)
    return schema


def negotiate(accept: str | None) -> tuple[str, bool]:
    """(`array` | `object` | `csv`, strip_nulls) from the Accept header (`MediaType.hs`)."""
    if not accept:
        return "array", False
    for raw in accept.split(","):
        parts = [p.strip() for p in raw.split(";")]
        mime = parts[0].lower()
        stripped = "nulls=stripped" in [p.replace(" ", "") for p in parts[1:]]
        if mime in ("application/vnd.pgrst.object+json", "application/vnd.pgrst.object"):
            return "object", stripped
        if mime in ("application/json", "*/*", "application/*", "application/vnd.pgrst.array+json", ""):
            return "array", stripped
        if mime == "text/csv":
            return "csv", False
    raise not_acceptable(accept)


def shape_sql(kind: str, stripped: bool) -> str:
    base = "object" if kind == "object" else "array"
    return base + ("_stripped" if stripped else "")


def check_prefer(prefer: Prefer) -> None:
    if prefer.get("handling") == "strict" and prefer.invalid:
        raise PostgRESTError(400, "PGRST122", "Invalid preferences given with handling=strict",
                             f"Invalid preferences: {', '.join(prefer.invalid)}")


def context(request: Request, identity: Identity, path: str, prefer: Prefer) -> transaction.RequestContext:
    cache = request.app.state.rest.holder.cache
    extra = {"timezone": prefer.get("timezone")} if prefer.get("timezone") else None
    return transaction.RequestContext(
        identity=identity, method=request.method, path=path, headers_json=transaction.headers_json(request.headers),
        cookies_json=transaction.cookies_json(request.cookies), role_settings=cache.role_settings.get(
            identity.role, {}), extra_settings=extra)


def content_range(offset: int, rows: int, total: int | None) -> str:
    span = f"{offset}-{offset + rows - 1}" if rows > 0 else "*"
    return f"{span}/{total if total is not None else '*'}"


def range_status(offset: int, rows: int, total: int | None) -> int:
    if total is None:
        return 200
    if offset > total:
        raise invalid_range(f"An offset of {offset} was requested, but there are only {total} rows.")
    return 206 if rows < total else 200


def preference_applied(items: list[str]) -> dict[str, str]:
    return {"Preference-Applied": ", ".join(items)} if items else {}


def to_csv(body: str, scalar_column: str = "value") -> bytes:
    rows = json.loads(body) if body else []
    if any(not isinstance(row, dict) for row in rows):   # a SETOF scalar function: one column, as PostgREST names it
        rows = [{scalar_column: row} for row in rows]
    out = io.StringIO()
    if rows:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(rows[0].keys()))
        for row in rows:
            writer.writerow(["" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else
                                                   ("true" if v is True else "false" if v is False else v))
                             for v in row.values()])
    return out.getvalue().encode()


def render_body(body: str, kind: str, page_total: int, head: bool, scalar_column: str = "value") -> tuple[bytes, str]:
    if kind == "object":
        if page_total != 1:
            raise singular(page_total)
        return (b"" if head else body.encode()), OBJECT_TYPE
    if kind == "csv":
        return (b"" if head else to_csv(body, scalar_column)), CSV_TYPE
    return (b"" if head else body.encode()), JSON_TYPE


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_HEADER_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def overridden(response: Response, gucs: tuple) -> Response:
    """Apply `response.status` / `response.headers` set by the request's functions (PGRST112 / PGRST111 if bad)."""
    status, headers = gucs if gucs else (None, None)
    if status:
        if not status.strip().isdigit() or not 100 <= int(status) <= 599:
            raise PostgRESTError(500, "PGRST112", "response.status guc must be a valid status code")
        response.status_code = int(status)
    if headers:
        try:
            items = json.loads(headers)
            if not isinstance(items, list) or not all(isinstance(i, dict) and len(i) == 1 for i in items):
                raise ValueError
            for item in items:   # what HTTP cannot carry (CR/LF, non-Latin-1) would fail later, as a bare 500
                (key, value), = item.items()
                if not _HEADER_NAME.fullmatch(str(key)) or _BAD_HEADER_VALUE.search(str(value).encode("latin-1")):
                    raise ValueError
        except (ValueError, UnicodeEncodeError):
            raise PostgRESTError(500, "PGRST111", "response.headers guc must be a JSON array composed of objects "
                                                  "with a single key and a string value") from None
        for item in items:
            (key, value), = item.items()
            response.headers[str(key)] = str(value)
    return response


def query_items(request: Request) -> list[tuple[str, str]]:
    return request.query_params.multi_items()


async def read_json_body(request: Request) -> Any:
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", "application/vnd.pgrst.object+json", "*/*", ""):
        raise invalid_body(f"Content-Type not acceptable: {content_type}")
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):   # RecursionError: nested deeper than Python's stack
        raise invalid_body() from None


# -- tables and views ----------------------------------------------------------------------------------------------

def guarded(endpoint):
    """A bug must not answer plain text and drop the client's keep-alive connection: log it (the gateway log,
    never the response) and answer PostgREST's internal-error shape."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return PostgRESTError(500, "PGRSTX00", "Internal error in the local gateway",
                                  "See the gateway log").response(request.method == "HEAD")

    return wrapped


async def _reloading(request: Request, handler, miss_codes: tuple[str, ...]) -> Response:
    """Run `handler`; when it misses something in the schema cache, reload the cache once and try again."""
    state: RestState = request.app.state.rest
    for attempt in (0, 1):
        try:
            return await handler(request, state)
        except PostgRESTError as e:
            if attempt == 0 and e.code in miss_codes and await state.reload_after_miss():
                continue
            return e.response(request.method == "HEAD")
    raise AssertionError("unreachable")


@guarded
async def table_endpoint(request: Request) -> Response:
    return await _reloading(request, _table, ("PGRST205", "PGRST200", "PGRST204", "42703"))


async def _table(request: Request, state: RestState) -> Response:
    method = request.method
    schema = profile(request)
    identity = state.auth.identify(request.headers.get("authorization"))
    prefer = parse_prefer(request.headers.getlist("prefer"))
    check_prefer(prefer)
    kind, stripped = negotiate(request.headers.get("accept"))
    name = request.path_params["name"]
    ctx = context(request, identity, "/" + name, prefer)
    if method in ("GET", "HEAD"):
        return await _read(request, state, schema, name, ctx, prefer, kind, stripped)
    if method == "POST":
        return await _insert(request, state, schema, name, ctx, prefer, kind, stripped)
    if method == "PATCH":
        return await _update(request, state, schema, name, ctx, prefer, kind, stripped)
    if method == "DELETE":
        return await _delete(request, state, schema, name, ctx, prefer, kind, stripped)
    if method == "PUT":
        return await _put(request, state, schema, name, ctx, prefer, kind, stripped)
    raise PostgRESTError(405, "PGRST117", f"Unsupported HTTP method: {method}")


async def _read(request, state, schema, name, ctx, prefer, kind, stripped) -> Response:
    count = prefer.get("count") is not None
    range_header = request.headers.get("range") if request.method == "GET" else None
    key = (state.holder.loads, schema, name, request.scope["query_string"], kind, stripped, count, range_header)
    plan = state.plans.get(key)
    if plan is None:
        query = parse_query(query_items(request))
        root = query.level(())
        ranged = parse_range_header(range_header)
        if ranged is not None:
            offset, limit = ranged
            root.offset = root.offset if root.offset is not None else offset
            if limit is not None:
                root.limit = limit if root.limit is None else min(root.limit, limit)
        stmt = builder.build_read(state.holder.cache, schema, name, query, count=count,
                                  shape=shape_sql(kind, stripped))
        plan = Plan(stmt.query.as_bytes(None), stmt.params, root.offset or 0)
        if len(plan.query) <= wire.MAX_CACHED_QUERY_BYTES:   # one-off giants are not kept (memory)
            state.plans[key] = plan
            if len(state.plans) > _PLAN_CACHE_SIZE:
                state.plans.popitem(last=False)
    (total, page_total, body), gucs = await transaction.run(request.app.state.db.rest, ctx, plan.query,
                                                            plan.params, read_only=True, gucs_in_row=True)
    status = range_status(plan.offset, page_total, total)
    content, media_type = render_body(body, kind, page_total, request.method == "HEAD")
    headers = {"Content-Range": content_range(plan.offset, page_total, total)}
    applied = [f"count={prefer.get('count')}"] if count else []
    if prefer.get("timezone"):
        applied.append(f"timezone={prefer.get('timezone')}")
    headers.update(preference_applied(applied))
    return overridden(Response(content, status_code=status, headers=headers, media_type=media_type), gucs)


def _check_affected(prefer: Prefer, kind: str, representation: bool):
    strict_max = prefer.max_affected if prefer.get("handling") == "strict" else None

    def decide(row: tuple) -> None:
        page_total = row[1]
        if kind == "object" and page_total != 1:
            raise singular(page_total)
        if strict_max is not None and page_total > strict_max:
            raise PostgRESTError(400, "PGRST124", "Query result exceeds max-affected preference constraint",
                                 f"The query affects {page_total} rows")
    return decide


def _mutation_response(row: tuple, status: int, kind: str, m: builder.Mutation, prefer: Prefer,
                       applied: list[str], range_value: str) -> Response:
    page_total, body = row[1], row[2]
    ret = prefer.get("return")
    if ret:
        applied.append(f"return={ret}")
    if m.count:
        applied.append(f"count={prefer.get('count')}")
    if prefer.get("handling") == "strict":
        applied.append("handling=strict")
        if prefer.max_affected is not None:
            applied.append(f"max-affected={prefer.max_affected}")
    headers = {"Content-Range": range_value, **preference_applied(applied)}
    if m.representation:
        content, media_type = render_body(body, kind, page_total, False)
        return Response(content, status_code=status, headers=headers, media_type=media_type)
    return Response(b"", status_code=status if status != 200 else 204, headers=headers)


async def _insert(request, state, schema, name, ctx, prefer, kind, stripped) -> Response:
    payload = await read_json_body(request)
    query = parse_query(query_items(request))
    if isinstance(payload, dict):
        rows = [payload]
    elif isinstance(payload, list) and all(isinstance(r, dict) for r in payload):
        rows = payload
    else:
        raise invalid_body()
    if query.columns is not None:
        columns = query.columns
    else:
        first = list(rows[0].keys()) if rows else []
        if any(set(r.keys()) != set(first) for r in rows):
            raise invalid_body("All object keys must match")
        columns = first
    m = builder.Mutation(kind="insert", payload=rows, columns=columns,
                         representation=prefer.get("return") == "representation",
                         count=prefer.get("count") is not None, on_conflict=query.on_conflict,
                         resolution=prefer.get("resolution"), missing_default=prefer.get("missing") == "default",
                         shape=shape_sql(kind, stripped))
    applied = []
    table = state.holder.cache.table(schema, name)
    if m.resolution and table is not None and (query.on_conflict or table.primary_key):
        applied.append(f"resolution={m.resolution}")
    else:
        m.resolution = None
    if m.missing_default:
        applied.append("missing=default")
    if not rows:
        stmt_row = (0 if m.count else None, 0, "[]")
        return _mutation_response(stmt_row, 201, kind, m, prefer, applied, "*/0" if m.count else "*/*")
    stmt = builder.build_insert(state.holder.cache, schema, name, query, m)
    row, gucs = await transaction.run(request.app.state.db.rest, ctx, stmt.sql_bytes(), stmt.params, read_only=False,
                                decide=_check_affected(prefer, kind, m.representation))
    status = 201
    if m.resolution == "merge-duplicates" and m.representation and row[3] is False:
        status = 200
    return overridden(_mutation_response(row, status, kind, m, prefer, applied, f"*/{row[1] if m.count else '*'}"),
                      gucs)


async def _update(request, state, schema, name, ctx, prefer, kind, stripped) -> Response:
    payload = await read_json_body(request)
    query = parse_query(query_items(request))
    if not isinstance(payload, dict):
        raise invalid_body()
    columns = query.columns if query.columns is not None else list(payload.keys())
    m = builder.Mutation(kind="update", payload=payload, columns=columns,
                         representation=prefer.get("return") == "representation",
                         count=prefer.get("count") is not None, shape=shape_sql(kind, stripped))
    applied = ["missing=default"] if prefer.get("missing") == "default" else []
    if not columns:
        return _mutation_response((0 if m.count else None, 0, "[]"), 200, kind, m, prefer, applied,
                                  "*/0" if m.count else "*/*")
    stmt = builder.build_update(state.holder.cache, schema, name, query, m)
    row, gucs = await transaction.run(request.app.state.db.rest, ctx, stmt.sql_bytes(), stmt.params, read_only=False,
                                decide=_check_affected(prefer, kind, m.representation))
    n = row[1]
    span = f"0-{n - 1}" if n else "*"
    return overridden(_mutation_response(row, 200, kind, m, prefer, applied, f"{span}/{n if m.count else '*'}"),
                      gucs)


async def _delete(request, state, schema, name, ctx, prefer, kind, stripped) -> Response:
    query = parse_query(query_items(request))
    m = builder.Mutation(kind="delete", representation=prefer.get("return") == "representation",
                         count=prefer.get("count") is not None, shape=shape_sql(kind, stripped))
    stmt = builder.build_delete(state.holder.cache, schema, name, query, m)
    row, gucs = await transaction.run(request.app.state.db.rest, ctx, stmt.sql_bytes(), stmt.params, read_only=False,
                                decide=_check_affected(prefer, kind, m.representation))
    return overridden(_mutation_response(row, 200, kind, m, prefer, [], f"*/{row[1] if m.count else '*'}"), gucs)


async def _put(request, state, schema, name, ctx, prefer, kind, stripped) -> Response:
    """`PUT /t?pk=eq.v`: upsert exactly one row identified by its primary key (PostgREST's PGRST105/114/115)."""
    payload = await read_json_body(request)
    query = parse_query(query_items(request))
    table = state.holder.cache.table(schema, name)
    if table is None:
        raise table_not_found(schema, name)
    root = query.level(())
    if root.limit is not None or root.offset is not None:
        raise PostgRESTError(400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")
    filters = {c.column: c for c in root.conditions if getattr(c, "op", None) == "eq" and not c.negate
               and not c.json_path}
    if (not table.primary_key or len(filters) != len(root.conditions)
            or sorted(filters) != sorted(table.primary_key)):
        raise PostgRESTError(405, "PGRST105", "Filters must include all and only primary key columns with 'eq' "
                                              "operators")
    if isinstance(payload, list) and len(payload) == 1:
        payload = payload[0]
    if not isinstance(payload, dict):
        raise invalid_body()
    if any(str(payload.get(col)) != filters[col].value for col in table.primary_key):
        raise PostgRESTError(400, "PGRST115", "Payload values do not match URL in primary key column(s)")
    query.levels[()] = type(root)()   # the filters were only the key: they are checked, not applied
    m = builder.Mutation(kind="insert", payload=[payload], columns=list(payload.keys()),
                         representation=prefer.get("return") == "representation",
                         count=prefer.get("count") is not None, resolution="merge-duplicates",
                         shape=shape_sql(kind, stripped))
    stmt = builder.build_insert(state.holder.cache, schema, name, query, m)
    row, gucs = await transaction.run(request.app.state.db.rest, ctx, stmt.sql_bytes(), stmt.params,
                                      read_only=False, decide=_check_affected(prefer, kind, m.representation))
    return overridden(_mutation_response(row, 200, kind, m, prefer, [], f"*/{row[1] if m.count else '*'}"), gucs)


# -- RPC -----------------------------------------------------------------------------------------------------------

@guarded
async def rpc_endpoint(request: Request) -> Response:
    return await _reloading(request, _rpc, ("PGRST202",))


def resolve_function(functions: list[Function], schema: str, name: str, keys: list[str],
                     has_body: bool) -> tuple[Function, bool]:
    """PostgREST's resolution by argument names; a single unnamed json/jsonb parameter takes the whole body."""
    wanted = set(keys)
    named = [f for f in functions if all(p.name for p in f.params) and wanted <= f.names and f.required <= wanted]
    if len(named) == 1:
        return named[0], False
    if len(named) > 1:
        raise PostgRESTError(
            300, "PGRST203",
            "Could not choose the best candidate function between: "
            + ", ".join(f"{schema}.{name}({', '.join(p.name + ' => ' + p.type for p in f.params)})" for f in named),
            None, "Try renaming the parameters or the function itself in the database so function overloading "
                  "can be resolved")
    single = [f for f in functions if len(f.params) == 1 and f.params[0].name == ""
              and f.params[0].type in ("json", "jsonb")]
    if len(single) == 1 and has_body:
        return single[0], True
    args = ", ".join(sorted(wanted))
    raise PostgRESTError(
        404, "PGRST202", f"Could not find the function {schema}.{name}({args}) in the schema cache",
        f"Searched for the function {schema}.{name} with parameters {args} or with a single unnamed json/jsonb "
        "parameter, but no matches were found in the schema cache." if args else
        f"Searched for the function {schema}.{name} without parameters, but no matches were found in the schema "
        "cache.", None)


async def _rpc(request: Request, state: RestState) -> Response:
    method = request.method
    if method not in ("GET", "HEAD", "POST"):
        raise PostgRESTError(405, "PGRST101", f"Cannot use the {method} method on RPC")
    schema = profile(request)
    identity = state.auth.identify(request.headers.get("authorization"))
    prefer = parse_prefer(request.headers.getlist("prefer"))
    check_prefer(prefer)
    kind, stripped = negotiate(request.headers.get("accept"))
    name = request.path_params["name"]
    query = parse_query(query_items(request), rpc=method != "POST")
    if method == "POST":
        body = await read_json_body(request)
        args: Any = {} if body is None else body
    else:
        args = {k: v[-1] for k, v in query.rpc_args.items()}
    functions = state.holder.cache.functions.get((schema, name), [])
    keys = list(args.keys()) if isinstance(args, dict) else []
    fn, single_json = resolve_function(functions, schema, name, keys, method == "POST")
    if not single_json and not isinstance(args, dict):
        raise invalid_body()
    count = prefer.get("count") is not None
    stmt, result = builder.build_rpc(state.holder.cache, fn, args, query, count=count,
                                     shape=shape_sql(kind, stripped), single_json_arg=single_json)
    read_only = method in ("GET", "HEAD") or fn.volatility in ("s", "i")
    strict_max = prefer.max_affected if prefer.get("handling") == "strict" else None
    if strict_max is not None and result not in ("rows", "setof_scalar"):
        raise PostgRESTError(400, "PGRST128", "Function must return SETOF or TABLE when max-affected preference "
                                              "is used with handling=strict")

    def decide(row: tuple) -> None:
        if kind == "object" and result in ("rows", "setof_scalar") and row[1] != 1:
            raise singular(row[1])
        if strict_max is not None and row[1] > strict_max:
            raise PostgRESTError(400, "PGRST124", "Query result exceeds max-affected preference constraint",
                                 f"The query affects {row[1]} rows")

    ctx = context(request, identity, f"/rpc/{name}", prefer)
    row, gucs = await transaction.run(request.app.state.db.rest, ctx, stmt.sql_bytes(), stmt.params, read_only=read_only,
                                decide=None if read_only and kind != "object" and strict_max is None else decide)
    total, page_total, body = row[0], row[1], row[2]
    applied = [f"count={prefer.get('count')}"] if count else []
    if result == "void":
        return overridden(Response(b"", status_code=204, headers=preference_applied(applied)), gucs)
    head = method == "HEAD"
    if result in ("rows", "setof_scalar"):
        offset = query.level(()).offset or 0
        status = range_status(offset, page_total, total)
        content, media_type = render_body(body, kind, page_total, head, scalar_column=name)
        headers = {"Content-Range": content_range(offset, page_total, total), **preference_applied(applied)}
        return overridden(Response(content, status_code=status, headers=headers, media_type=media_type), gucs)
    return overridden(Response(b"" if head else body.encode(), status_code=200, headers=preference_applied(applied),
                               media_type=JSON_TYPE), gucs)


# -- root ----------------------------------------------------------------------------------------------------------

async def root_endpoint(request: Request) -> Response:
    """`GET /`: a minimal OpenAPI description listing the exposed tables and functions."""
    cache = request.app.state.rest.holder.cache
    paths = {f"/{t.name}": {} for t in cache.tables.values()}
    paths.update({f"/rpc/{name}": {} for (_, name) in cache.functions})
    body = {"swagger": "2.0", "info": {"title": "oncore local (PostgREST-compatible)", "version": "12"},
            "basePath": "/", "paths": paths}
    return Response(json.dumps(body).encode(), media_type="application/openapi+json; charset=utf-8")


CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PATCH, PUT, DELETE, OPTIONS, HEAD",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, Accept-Language, Content-Language, "
                                    "apikey, x-client-info, prefer, range, range-unit, accept-profile, "
                                    "content-profile, x-retry-count",
    "Access-Control-Expose-Headers": "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, "
                                     "Location, Server, Transfer-Encoding, Range-Unit",
    "Access-Control-Max-Age": "86400",
}


async def options_endpoint(request: Request) -> Response:
    """CORS preflight (browsers running supabase-js), answered without touching the database."""
    return Response(b"", status_code=200, headers=CORS_HEADERS)


async def not_found_endpoint(request: Request) -> Response:
    return PostgRESTError(404, "PGRST125", "Invalid path specified in request URL").response(
        request.method == "HEAD")
