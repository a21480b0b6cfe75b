"""Parsers for PostgREST's query grammar (`ApiRequest/QueryParams.hs`): select trees, filters and logic trees,
order, limit/offset/Range and Prefer. Pure functions over strings; nothing here touches SQL or the database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Union

from oncore_cli.local.gateway.rest.errors import PostgRESTError, invalid_range, parse_error

# -- the parsed request ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonStep:
    arrow: str            # "->" or "->>"
    key: str | int


@dataclass
class Column:
    name: str
    alias: str | None = None
    json_path: tuple[JsonStep, ...] = ()
    cast: str | None = None

    @property
    def output_name(self) -> str:
        if self.alias:
            return self.alias
        if self.json_path:
            last = self.json_path[-1].key
            return str(last)
        return self.name


@dataclass
class Star:
    pass


@dataclass
class Embed:
    name: str
    alias: str | None = None
    hint: str | None = None
    join: str = "left"          # "left" | "inner"
    spread: bool = False
    select: list["SelectItem"] = field(default_factory=list)

    @property
    def output_name(self) -> str:
        return self.alias or self.name


SelectItem = Union[Column, Star, Embed]


@dataclass
class Filter:
    column: str
    op: str                          # eq, neq, ..., in, is, fts, ...
    value: str | list[str]           # list for `in`
    negate: bool = False
    modifier: str | None = None      # "any" / "all", or the text-search configuration for fts ops
    json_path: tuple[JsonStep, ...] = ()


@dataclass
class LogicTree:
    op: str                          # "and" | "or"
    children: list["Condition"]
    negate: bool = False


Condition = Union[Filter, LogicTree]


@dataclass
class OrderTerm:
    column: str
    json_path: tuple[JsonStep, ...] = ()
    direction: str | None = None     # "asc" | "desc"
    nulls: str | None = None         # "nullsfirst" | "nullslast"
    relation: str | None = None      # order=rel(col): a to-one embed's column


@dataclass
class Level:
    """What applies to one node of the select tree: the root (path ()) or an embed (path ("venues",))."""
    conditions: list[Condition] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


@dataclass
class ReadQuery:
    select: list[SelectItem]
    levels: dict[tuple[str, ...], Level]
    columns: list[str] | None = None
    on_conflict: list[str] | None = None
    rpc_args: dict[str, list[str]] = field(default_factory=dict)

    def level(self, path: tuple[str, ...] = ()) -> Level:
        return self.levels.setdefault(path, Level())


# -- lexical helpers -------------------------------------------------------------------------------------------

OPERATORS = {"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is", "isdistinct",
             "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "fts", "plfts", "phfts", "wfts"}
QUANTIFIABLE = {"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"}
FTS_OPERATORS = {"fts", "plfts", "phfts", "wfts"}
IS_VALUES = {"null", "not_null", "true", "false", "unknown"}
RESERVED_KEYS = {"select", "columns", "on_conflict"}
# Bounds on one request's query shape: deeper or larger trees are refused with PGRST100 before any SQL is built
# (nesting recurses in the parser and the SQL renderer; hundreds of embeds take the planner seconds).
MAX_NESTING = 32
MAX_SELECT_ITEMS = 1000
MAX_EMBEDS = 50

_BARE_IDENT = r"[\w$ ]+(?:-[\w$ ]+)*"
_QUOTED_IDENT = r'"(?:[^"\\\x00]|\\[^\x00])*"'   # no NUL: libpq would end the SQL text there
_IDENT = rf"(?:{_QUOTED_IDENT}|{_BARE_IDENT})"
_JSON_PATH = rf"(?:->>?(?:-?\d+(?![\w$])|{_IDENT}))*"
_FIELD_RE = re.compile(rf"(?P<name>{_IDENT})(?P<path>{_JSON_PATH})")
_JSON_STEP_RE = re.compile(rf"(->>?)(-?\d+(?![\w$])|{_IDENT})")
_COLUMN_ITEM_RE = re.compile(
    rf"(?:(?P<alias>{_IDENT}):(?!:))?(?P<field>{_IDENT}{_JSON_PATH})(?:::(?P<cast>[A-Za-z_][\w ]*(?:\[\])?))?")
_EMBED_HEAD_RE = re.compile(rf"(?P<spread>\.\.\.)?(?:(?P<alias>{_IDENT}):(?!:))?(?P<name>{_IDENT})(?P<bangs>(?:!{_IDENT})*)")


def unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside double quotes, parentheses and braces."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse_field(text: str, what: str) -> tuple[str, tuple[JsonStep, ...]]:
    match = _FIELD_RE.fullmatch(text)
    if not match:
        raise parse_error(what, f"unexpected {text!r} expecting field name (* or [a..z0..9_$])")
    return unquote(match["name"]), _json_path(match["path"])


def _json_path(text: str) -> tuple[JsonStep, ...]:
    steps = []
    for arrow, key in _JSON_STEP_RE.findall(text):
        steps.append(JsonStep(arrow, int(key) if re.fullmatch(r"-?\d+", key) else unquote(key)))
    return tuple(steps)


# -- select ------------------------------------------------------------------------------------------------------

def parse_select(text: str | None) -> list[SelectItem]:
    if text is None or text.strip() == "":
        return [Star()]
    _check_nesting(text, f"select ({text})")
    items = _parse_select_list(text, text)
    columns, embeds = _count_items(items)
    if columns > MAX_SELECT_ITEMS:
        raise parse_error(f"select ({text})", f"more than {MAX_SELECT_ITEMS} fields in select")
    if embeds > MAX_EMBEDS:
        raise parse_error(f"select ({text})", f"more than {MAX_EMBEDS} embedded resources in select")
    return items


def _count_items(items: list[SelectItem]) -> tuple[int, int]:
    columns = embeds = 0
    for item in items:
        columns += 1
        if isinstance(item, Embed):
            inner_columns, inner_embeds = _count_items(item.select)
            columns += inner_columns
            embeds += 1 + inner_embeds
    return columns, embeds


def _check_nesting(text: str, what: str) -> None:
    """Refuse parentheses nested deeper than MAX_NESTING (outside double quotes), without recursing."""
    depth, quoted, escaped = 0, False, False
    for ch in text:
        if escaped:
            escaped = False
        elif quoted:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
            if depth > MAX_NESTING:
                raise parse_error(what, f"nesting deeper than {MAX_NESTING} levels")
        elif ch == ")":
            depth -= 1


def _parse_select_list(text: str, whole: str) -> list[SelectItem]:
    items: list[SelectItem] = []
    for raw in split_top(text):
        item = raw.strip()
        if not item:
            raise parse_error(f"select ({whole})", "unexpected empty field in select list")
        items.append(_parse_select_item(item, whole))
    return items


def _parse_select_item(item: str, whole: str) -> SelectItem:
    if item == "*":
        return Star()
    if item.endswith(")"):
        open_at = _matching_open(item)
        head, inner = item[:open_at], item[open_at + 1:-1]
        if head.endswith(("count", ".count", ".sum", ".avg", ".max", ".min")) and inner == "":
            raise PostgRESTError(400, "PGRST123", "Use of aggregate functions is not allowed")
        match = _EMBED_HEAD_RE.fullmatch(head)
        if match is None or open_at < 0:
            raise parse_error(f"select ({whole})", f"unexpected {item!r}")
        embed = Embed(name=unquote(match["name"]), alias=unquote(match["alias"]) if match["alias"] else None,
                      spread=bool(match["spread"]))
        for bang in [b for b in split_bangs(match["bangs"]) if b]:
            if bang in ("inner", "left"):
                embed.join = bang
            elif embed.hint is None:
                embed.hint = unquote(bang)
            else:
                raise parse_error(f"select ({whole})", f"unexpected hint !{bang}")
        embed.select = _parse_select_list(inner, whole) if inner.strip() else []
        return embed
    match = _COLUMN_ITEM_RE.fullmatch(item)
    if match is None:
        raise parse_error(f"select ({whole})", f"unexpected {item!r} expecting field name, embed or *")
    name, path = parse_field(match["field"], f"select ({whole})")
    return Column(name=name, alias=unquote(match["alias"]) if match["alias"] else None, json_path=path,
                  cast=match["cast"].strip() if match["cast"] else None)


def split_bangs(text: str) -> list[str]:
    return re.findall(rf"!({_IDENT})", text)


def _matching_open(item: str) -> int:
    depth, quoted = 0, False
    for i in range(len(item) - 1, -1, -1):
        ch = item[i]
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch == ")":
            depth += 1
        elif ch == "(":
            depth -= 1
            if depth == 0:
                return i
    return -1


# -- filters -----------------------------------------------------------------------------------------------------

_OP_RE = re.compile(r"(?P<not>not\.)?(?P<op>[a-z]+)(?:\((?P<mod>[^)]*)\))?\.(?P<value>.*)", re.S)


def parse_op_expr(column: str, json_path: tuple[JsonStep, ...], expr: str, in_tree: bool = False) -> Filter:
    """`[not.]op[(modifier)].value` → Filter; PGRST100 for anything else."""
    match = _OP_RE.fullmatch(expr)
    if match is None or match["op"] not in OPERATORS:
        raise parse_error(f"filter ({expr})",
                          f"unexpected {expr[:1]!r} expecting \"not\" or operator (eq, gt, ...)")
    op, mod, value = match["op"], match["mod"], match["value"]
    if mod is not None:
        if op in FTS_OPERATORS:
            if not re.fullmatch(r"[\w]+", mod):
                raise parse_error(f"filter ({expr})", f"unexpected text search configuration {mod!r}")
        elif op not in QUANTIFIABLE or mod not in ("any", "all"):
            raise parse_error(f"filter ({expr})", f"unexpected modifier ({mod}) for operator {op}")
    if in_tree:
        value = _unquote_tree_value(value) if op != "in" else value
    parsed: str | list[str] = value
    if op == "in":
        parsed = parse_in_list(value, expr)
    elif op == "is":
        if value.lower() not in IS_VALUES:
            raise parse_error(f"filter ({expr})",
                              f"unexpected {value!r} expecting null, not_null, true, false or unknown")
        parsed = value.lower()
    elif mod in ("any", "all"):
        parsed = value
    return Filter(column=column, op=op, value=parsed, negate=bool(match["not"]), modifier=mod, json_path=json_path)


def _unquote_tree_value(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_in_list(value: str, expr: str) -> list[str]:
    if not (value.startswith("(") and value.endswith(")")):
        raise parse_error(f"filter ({expr})", "unexpected end of input expecting \"(\" ... \")\" for in")
    inner = value[1:-1]
    if inner == "":
        return []
    return _split_in_list(inner)


_QUOTED_ELEMENT_RE = re.compile(r'"((?:[^"\\]|\\.)*)"(?=,|$)')


def _split_in_list(inner: str) -> list[str]:
    """PostgREST's list grammar: an element is quoted only when it starts with `"` (and the quote closes before
    the next `,`); otherwise it runs to the next `,` and quotes in it are literal. supabase-js quotes only values
    with `,()`, so `.in("name", ['x"y', ...])` arrives with a bare quote inside an element."""
    items, pos = [], 0
    while True:
        quoted = _QUOTED_ELEMENT_RE.match(inner, pos)
        if quoted:
            items.append(re.sub(r"\\(.)", r"\1", quoted[1]))
            pos = quoted.end()
        else:
            comma = inner.find(",", pos)
            end = len(inner) if comma < 0 else comma
            items.append(inner[pos:end])
            pos = end
        if pos >= len(inner):
            return items
        pos += 1  # the comma


def is_op_expr(value: str) -> bool:
    """Whether a query value is an operator expression (RPC GET: filters vs arguments)."""
    match = _OP_RE.fullmatch(value)
    return bool(match and match["op"] in OPERATORS)


def parse_logic_tree(op: str, negate: bool, value: str) -> LogicTree:
    if not (value.startswith("(") and value.endswith(")")):
        raise parse_error(f"logic tree ({value})", "unexpected end of input expecting \"(\"")
    _check_nesting(value, f"logic tree ({value})")
    return LogicTree(op=op, negate=negate, children=_parse_tree_items(value[1:-1], value))


_TREE_HEAD_RE = re.compile(r"(?P<not>not\.)?(?P<op>and|or)\(")


def _parse_tree_items(text: str, whole: str) -> list[Condition]:
    children: list[Condition] = []
    for raw in split_top(text):
        item = raw.strip()
        head = _TREE_HEAD_RE.match(item)
        if head and item.endswith(")"):
            children.append(LogicTree(op=head["op"], negate=bool(head["not"]),
                                      children=_parse_tree_items(item[head.end():-1], whole)))
            continue
        match = re.match(rf"({_IDENT}{_JSON_PATH})\.(.*)", item, re.S)
        if match is None:
            raise parse_error(f"logic tree ({whole})", f"unexpected {item!r} expecting field name")
        name, path = parse_field(match[1], f"logic tree ({whole})")
        children.append(parse_op_expr(name, path, match[2], in_tree=True))
    if not children:
        raise parse_error(f"logic tree ({whole})", "unexpected empty logic tree")
    return children


# -- order, limit, offset, Range --------------------------------------------------------------------------------

_ORDER_RE = re.compile(rf"(?:(?P<rel>{_IDENT})\((?P<relcol>{_IDENT}{_JSON_PATH})\)|(?P<col>{_IDENT}{_JSON_PATH}))"
                       r"(?:\.(?P<dir>asc|desc))?(?:\.(?P<nulls>nullsfirst|nullslast))?")


def parse_order(text: str) -> list[OrderTerm]:
    terms = []
    for raw in split_top(text):
        item = raw.strip()
        match = _ORDER_RE.fullmatch(item)
        if match is None:
            raise parse_error(f"order ({text})", f"unexpected {item!r} expecting field name, asc, desc, "
                                                 "nullsfirst or nullslast")
        if match["rel"]:
            name, path = parse_field(match["relcol"], f"order ({text})")
            terms.append(OrderTerm(name, path, match["dir"], match["nulls"], relation=unquote(match["rel"])))
        else:
            name, path = parse_field(match["col"], f"order ({text})")
            terms.append(OrderTerm(name, path, match["dir"], match["nulls"]))
    return terms


def parse_nonneg_int(key: str, value: str) -> int:
    if not re.fullmatch(r"-?\d+", value.strip()):
        raise parse_error(f"{key} ({value})", f"unexpected {value!r} expecting digit")
    number = int(value)
    if number < 0:
        raise invalid_range(f"{key} must be non-negative" if key != "limit" else "Limit should be greater than "
                            "or equal to zero.")
    return number


def parse_range_header(value: str | None) -> tuple[int, int | None] | None:
    """`Range: a-b` (items) → (offset, limit); None when absent or not an items range."""
    if not value:
        return None
    match = re.fullmatch(r"\s*(?:items=)?(\d+)-(\d*)\s*", value)
    if match is None:
        return None
    lower = int(match[1])
    if match[2] == "":
        return lower, None
    upper = int(match[2])
    if lower > upper:
        raise invalid_range("The lower boundary must be lower than or equal to the upper boundary in the Range "
                            "header.")
    return lower, upper - lower + 1


# -- the whole query string ------------------------------------------------------------------------------------

def parse_query(params: list[tuple[str, str]], *, rpc: bool = False) -> ReadQuery:
    """Classify every query parameter the way PostgREST does and parse each."""
    select_text = None
    for key, value in params:
        if key == "select":
            select_text = value
    query = ReadQuery(select=parse_select(select_text), levels={(): Level()})
    for key, value in params:
        if key == "select":
            continue
        if key == "columns":
            query.columns = [unquote(c.strip()) for c in split_top(value) if c.strip()]
            continue
        if key == "on_conflict":
            query.on_conflict = [unquote(c.strip()) for c in split_top(value) if c.strip()]
            continue
        parts = _split_key(key)
        last = parts[-1]
        if last in ("order", "limit", "offset"):
            level = query.level(tuple(parts[:-1]))
            if last == "order":
                level.order = parse_order(value)
            elif last == "limit":
                level.limit = parse_nonneg_int("limit", value)
            else:
                level.offset = parse_nonneg_int("offset", value)
            continue
        if last in ("or", "and"):
            negate = len(parts) >= 2 and parts[-2] == "not"
            path = tuple(parts[:-2] if negate else parts[:-1])
            query.level(path).conditions.append(parse_logic_tree(last, negate, value))
            continue
        if rpc and not is_op_expr(value):
            query.rpc_args.setdefault(key, []).append(value)
            continue
        name, json_path = parse_field(parts[-1], f"filter ({key})")
        query.level(tuple(parts[:-1])).conditions.append(parse_op_expr(name, json_path, value))
    return query


def _split_key(key: str) -> list[str]:
    """`venues.city` → ["venues", "city"]; dots inside quotes or JSON paths (`data->a.b`) are not separators."""
    parts, current, quoted = [], "", False
    i = 0
    while i < len(key):
        ch = key[i]
        if ch == '"':
            quoted = not quoted
        if ch == "." and not quoted and "->" not in current:
            parts.append(current)
            current = ""
        else:
            current += ch
        i += 1
    parts.append(current)
    return parts


# -- Prefer -----------------------------------------------------------------------------------------------------

_PREFER_VALUES = {
    "return": {"minimal", "representation", "headers-only"},
    "count": {"exact", "planned", "estimated"},
    "resolution": {"merge-duplicates", "ignore-duplicates"},
    "missing": {"default", "null"},
    "handling": {"lenient", "strict"},
    "tx": {"commit", "rollback"},
}


@dataclass
class Prefer:
    values: dict[str, str] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    @property
    def max_affected(self) -> int | None:
        value = self.values.get("max-affected")
        return int(value) if value is not None else None


def parse_prefer(headers: list[str]) -> Prefer:
    """Every Prefer header, split on commas; the first occurrence of each preference wins."""
    prefer = Prefer()
    for header in headers:
        for raw in header.split(","):
            item = raw.strip()
            if not item:
                continue
            key, _, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if key in prefer.values:
                continue
            if key in _PREFER_VALUES and value in _PREFER_VALUES[key]:
                prefer.values[key] = value
            elif key == "max-affected" and re.fullmatch(r"\d+", value):
                prefer.values[key] = value
            elif key == "timezone" and value:
                prefer.values[key] = value
            else:
                prefer.invalid.append(item)
    return prefer
