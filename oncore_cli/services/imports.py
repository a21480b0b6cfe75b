"""ImportService: tour files (CSV, JSON, NDJSON) into shows and venues, validated first, written in one call.

The file format is the tour spreadsheet tour managers keep (docs: README, "Importing a tour"). Every record is
validated before anything is sent, column by column (each distinct text once: a tour repeats its dates, times, zones
and venues), and a file with any problem writes nothing. The rows then go to the
`import_shows` / `import_venues` RPC in one request, so one transaction: the file lands completely or not at all,
and running it again writes nothing. With a database URL (CI), the same RPC is fed through COPY instead.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, count
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Literal

from oncore_cli.core.errors import OncoreError, UsageError
from oncore_cli.services import times
from oncore_cli.services.import_file import Problem, Table, read_table

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

MAX_BODY = 10 * 1024 * 1024  # the API gateway's request limit (hosted Supabase's is the same order)
MAX_SHOWN = 50

SHOW_FIELDS = ("date", "city", "country", "venue_name", "venue_address", "capacity", "status", "load_in", "doors",
               "set_time", "curfew", "timezone", "promoter_email", "notes", "external_ref", "title")
SHOW_REQUIRED = ("date", "city", "country", "venue_name", "status", "timezone")
VENUE_FIELDS = ("name", "city", "country", "timezone", "capacity", "address", "postcode", "region", "venue_type",
                "notes", "external_ref")
VENUE_REQUIRED = ("name", "city")
TIME_COLUMNS = {"load_in": "load_in_at", "doors": "doors_at", "set_time": "set_time_at", "curfew": "curfew_at"}

# Other names spreadsheets use for the same columns (after normalising: lower case, spaces and dashes → _).
SHOW_ALIASES = {
    "show_date": "date", "day": "date", "event_date": "date",
    "venue": "venue_name", "room": "venue_name",
    "address": "venue_address", "street": "venue_address",
    "town": "city", "country_code": "country",
    "cap": "capacity", "venue_capacity": "capacity",
    "loadin": "load_in", "load_in_time": "load_in", "get_in": "load_in",
    "doors_time": "doors", "doors_open": "doors", "door_time": "doors",
    "set": "set_time", "settime": "set_time", "show_time": "set_time", "stage_time": "set_time",
    "curfew_time": "curfew",
    "tz": "timezone", "time_zone": "timezone",
    "promoter": "promoter_email", "email": "promoter_email", "promoter_e_mail": "promoter_email",
    "note": "notes", "comments": "notes",
    "ref": "external_ref", "id": "external_ref",
}
VENUE_ALIASES = {
    "venue_name": "name", "venue": "name", "venue_address": "address", "street": "address", "town": "city",
    "country_code": "country", "tz": "timezone", "time_zone": "timezone", "cap": "capacity", "zip": "postcode",
    "postal_code": "postcode", "state": "region", "type": "venue_type", "note": "notes", "ref": "external_ref",
    "id": "external_ref",
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ISO = "%Y-%m-%d"
_US = "%m/%d/%Y"
DATE_FORMATS = {"iso": _ISO, "us": _US, "eu": "%d/%m/%Y"}


# -- validation: each column's distinct texts once --------------------------------------------------------------
_DATE_PARTS = {_ISO: (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (0, 1, 2)),
               _US: (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})"), (2, 0, 1))}  # also Excel's 3/14/27


def _date(text: str, fmt: str) -> dt.date:
    try:
        if fmt not in _DATE_PARTS:
            return dt.datetime.strptime(text, fmt).date()
        pattern, order = _DATE_PARTS[fmt]
        parts = pattern.fullmatch(text).groups()
        year, month, day = (parts[i] for i in order)
        return dt.date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day))
    except (ValueError, AttributeError):
        shown = {v: k for k, v in DATE_FORMATS.items()}.get(fmt, fmt)
        raise ValueError(f"{text!r} is not a date in the file's format ({shown}: "
                         f"{dt.date(2027, 3, 14).strftime(fmt)}); pass --date-format if the file uses another") \
            from None


def _zone(name: str) -> str:
    try:
        times.zone(name)
    except UsageError:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)") from None
    if "/" not in name and name not in ("UTC",):
        raise ValueError(f"{name!r} is an abbreviation, not an IANA time zone: use e.g. Europe/Berlin")
    return name


def _country(text: str) -> str:
    if not (len(text) == 2 and text.isalpha() and text.isascii()):
        raise ValueError(f"{text!r} is not an ISO 3166 alpha-2 country code (e.g. DE, GB, US)")
    return text.upper()


def _capacity(text: str) -> int:
    if text.isdigit() and text[0] != "0":
        return int(text)
    digits = text.replace(",", "").replace("_", "")
    if not digits.isdigit() or int(digits) < 1:
        raise ValueError(f"{text!r} is not a positive whole number")
    return int(digits)


def _status(text: str) -> str:
    status = text.lower()
    if status not in ("hold", "confirmed", "cancelled"):
        raise ValueError(f"{text!r} is not a status: use confirmed, hold or cancelled")
    return status


def _email(text: str) -> str:
    if not _EMAIL.match(text):
        raise ValueError(f"{text!r} is not an e-mail address")
    return text


def _text(value: str | None) -> str | None:
    """A cell as text: empty is missing; accents in one (NFC) form."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    return value if value.isascii() else unicodedata.normalize("NFC", value)


@dataclass(frozen=True)
class Rule:
    """What a column accepts: `parse` turns a cell's text (stripped, not empty) into its value or raises ValueError
    saying why; None keeps the text."""

    parse: Callable[[str], Any] | None = None
    required: bool = False


SHOW_RULES = {
    "date": Rule(required=True),  # parsed in the file's date format
    "city": Rule(required=True), "country": Rule(_country, True), "venue_name": Rule(required=True),
    "venue_address": Rule(), "capacity": Rule(_capacity),
    "status": Rule(_status, True),
    "load_in": Rule(times.clock), "doors": Rule(times.clock), "set_time": Rule(times.clock),
    "curfew": Rule(times.clock),
    "timezone": Rule(_zone, True), "promoter_email": Rule(_email), "notes": Rule(), "external_ref": Rule(),
    "title": Rule(),
}
VENUE_RULES = {
    "name": Rule(required=True), "city": Rule(required=True), "country": Rule(_country), "timezone": Rule(_zone),
    "capacity": Rule(_capacity), "address": Rule(), "postcode": Rule(), "region": Rule(), "venue_type": Rule(),
    "notes": Rule(), "external_ref": Rule(),
}


class _Columns:
    """A table's columns with each distinct text validated once: `values[field]` maps a text to its value, and a row
    whose text in any column fails is reported (FILE:LINE: column: problem) and marked in `bad`.

    `combinations` name the column tuples that rules compare across rows; each becomes the set of its distinct
    combinations in one pass over the rows, and the distinct texts of its columns come from that set instead of a
    pass of their own (a pass over 10,000 rows costs more than all the checks of a column's few distinct texts)."""

    def __init__(self, table: Table, rules: dict[str, Rule], plan: Plan,
                 combinations: tuple[tuple[str, ...], ...] = ()) -> None:
        self.table, self.plan = table, plan
        self.lines = table.lines
        self.bad: set[int] = set()
        self._cells: dict[str, list] = {}
        self._folded: dict[str, dict] = {}
        self.combos = {names: table.combinations(names) for names in combinations}
        distinct: dict[str, set] = {}
        for names, found in self.combos.items():
            for k, name in enumerate(names):
                if name not in distinct:
                    distinct[name] = {combo[k] for combo in found}
        self.values = {name: self._check(name, rule, distinct.get(name)) for name, rule in rules.items()}

    def cells(self, name: str) -> list:
        """The column's texts, row by row (copied out of the rows once, when a rule needs them)."""
        if name not in self._cells:
            self._cells[name] = self.table.column(name)
        return self._cells[name]

    def _check(self, name: str, rule: Rule, distinct: set | None) -> dict | None:
        if rule.parse is None and not rule.required:
            return None  # free text (notes, addresses): nothing to refuse; cleaned when the row is built
        values: dict[str | None, Any] = {}
        failed: dict[str | None, str] = {}
        for text in self.table.distinct(name) if distinct is None else distinct:
            clean = _text(text)
            if clean is None:
                if rule.required:
                    failed[text] = "required"
                else:
                    values[text] = None
                continue
            try:
                values[text] = rule.parse(clean) if rule.parse else clean
            except ValueError as e:
                failed[text] = str(e)
        if failed:
            rows, where = self.table.rows, self.table.index.get(name)
            found = self.rows_with(map(itemgetter(where), rows) if where is not None else [None] * len(rows), failed)
            self.report(found, name, lambda i: failed[rows[i][where] if where is not None else None])
        return values

    @staticmethod
    def rows_with(column: Iterable, texts: dict | set) -> list[int]:
        """The rows whose cell is one of `texts`."""
        return list(compress(count(), map(texts.__contains__, column)))

    def distinct_values(self, name: str, folded: bool = False) -> bool:
        """True if different texts of the column (that passed) never mean the same value (or folded name)."""
        values = [value for value in (self.folded(name) if folded else self.values[name]).values() if value is not None]
        return len(set(values)) == len(values)

    def folded(self, name: str) -> dict:
        """{text: the name as identity compares it} for a column of names."""
        if name not in self._folded:
            self._folded[name] = {text: value and _fold(value) for text, value in self.values[name].items()}
        return self._folded[name]

    def report(self, rows: list[int], name: str, message: Callable[[int], str], skip_later: bool = True) -> None:
        """Problems for `rows` in column `name`; `skip_later`: the rows are left out of the checks that follow."""
        column = self.table.headers.get(name, name) if name else ""
        for i in rows:
            self.plan.problems.append(Problem(self.lines[i], column, message(i)))
        if skip_later:
            self.bad.update(rows)

    def mapped(self, name: str, folded: bool = False) -> list:
        """The column's values (or folded names), row by row (None where the row's text failed)."""
        values = self.folded(name) if folded else self.values[name]
        if values is None:
            return list(map(_text, self.cells(name)))
        return list(map(values.get, self.cells(name)))

    def row(self, i: int) -> dict:
        """Row i's values by field (a row without problems)."""
        row, index = self.table.rows[i], self.table.index
        return {name: _text(row[index[name]] if name in index else None) if values is None else
                values[row[index[name]] if name in index else None] for name, values in self.values.items()}

    def unique(self, keys: list, what: str, identity: str) -> list[int]:
        """Rows (not already bad) whose key an earlier row has: reported as the same `what` as that row."""
        if len(set(keys)) == len(keys):
            return []
        seen: dict = {}
        repeated = []
        for i, key in enumerate(keys):
            if i in self.bad:
                continue
            if key in seen:
                repeated.append(i)
                self.plan.problems.append(Problem(self.lines[i], "", f"the same {what} as line {self.lines[seen[key]]} "
                                                  f"({identity})"))
            else:
                seen[key] = i
        self.bad.update(repeated)
        return repeated


# -- identity --------------------------------------------------------------------------------------------------------
def _fold(text: str) -> str:
    """A name as identity compares it: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def _ref(*folded: str) -> str:
    """A row's stable key when the file has none: its identity, names folded (a venue: name|city; a show:
    date|name|city). Files imported before and after must get the same keys, so this never changes."""
    return "|".join(folded)


# -- the plan: validated rows ready to send ----------------------------------------------------------------------
@dataclass
class Plan:
    kind: Literal["shows", "venues"]
    source: str
    rows: list[dict] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # external_ref → line
    problems: list[Problem] = field(default_factory=list)

    def problem_lines(self) -> list[str]:
        ordered = sorted(self.problems, key=lambda p: p.line)
        return [p.text(self.source) for p in ordered]


def _missing_columns(table: Table, required: tuple[str, ...], plan: Plan) -> bool:
    if table.lines and not table.problems:
        missing = [f for f in required if f not in table.headers]
        for name in missing:
            plan.problems.append(Problem(1, name, "required column is missing (or map one with --map COLUMN="
                                         f"{name})"))
        return bool(missing)
    return False


def _date_format(table: Table, given: str | None) -> str:
    if given:
        return DATE_FORMATS.get(given.lower(), given)
    for value in table.column("date"):
        value = (value or "").strip()
        if value:
            return _US if "/" in value else _ISO  # a file uses one format throughout: the first date decides
    return _ISO


IDENTITY = ("date", "venue_name", "city")
WHERE = ("venue_name", "city", "timezone", "country")
WHEN = ("date", "timezone", *TIME_COLUMNS)


def plan_shows(table: Table, date_format: str | None = None) -> Plan:
    """Validate a table of shows column by column: every problem in the file, or the rows to send."""
    plan = Plan("shows", table.source, problems=list(table.problems))
    if _missing_columns(table, SHOW_REQUIRED, plan):
        return plan
    fmt = _date_format(table, date_format)
    cols = _Columns(table, SHOW_RULES | {"date": Rule(lambda text: _date(text, fmt), True)}, plan,
                    (WHEN, WHERE, IDENTITY))
    _one_row_per_show(cols)
    _same_venue_everywhere(cols)
    instants = _instants(cols)
    if plan.problems:
        return plan
    names, cities = cols.mapped("venue_name", folded=True), cols.mapped("city", folded=True)
    when = cols.table.keys(WHEN)
    for i, line in enumerate(table.lines):
        cell = cols.row(i)
        vref = _ref(names[i], cities[i])
        ref = cell["external_ref"] or _ref(cell["date"].isoformat(), names[i], cities[i])
        plan.lines[ref] = line
        plan.rows.append({
            "external_ref": ref, "date": cell["date"].isoformat(), "status": cell["status"], **instants[when[i]],
            "capacity": cell["capacity"], "promoter_email": cell["promoter_email"], "notes": cell["notes"],
            **({"title": cell["title"]} if cell["title"] else {}),
            "venue": {"external_ref": vref, "name": cell["venue_name"], "city": cell["city"],
                      "country": cell["country"], "timezone": cell["timezone"], "address": cell["venue_address"]},
        })
    return plan


def _one_row_per_show(cols: _Columns) -> None:
    """A show (its external_ref, or date, venue_name and city) is on one row only. When no two rows have the same
    texts and no two texts of a column mean the same, that is already known."""
    has_refs = any(map(_text, cols.table.distinct("external_ref")))
    if not has_refs and len(cols.combos[IDENTITY]) == len(cols.lines) and cols.distinct_values("date") and \
            cols.distinct_values("venue_name", folded=True) and cols.distinct_values("city", folded=True):
        return
    keys = zip(cols.mapped("date"), cols.mapped("venue_name", folded=True), cols.mapped("city", folded=True))
    refs = cols.mapped("external_ref") if has_refs else [None] * len(cols.lines)
    cols.unique([ref or key for ref, key in zip(refs, keys)], "show",
                "date, venue_name and city identify a show")


def _same_venue_everywhere(cols: _Columns) -> None:
    """A venue (name, city) has one time zone and one country: a row that differs from the venue's first row is
    reported."""
    value, names, cities = cols.values, cols.folded("venue_name"), cols.folded("city")
    seen: dict[tuple, tuple] = {}
    for name, city, zone, country in cols.combos[WHERE]:  # each distinct combination, not each row
        details = (value["timezone"].get(zone), value["country"].get(country))
        if seen.setdefault((names.get(name), cities.get(city)), details) != details:
            break
    else:
        return
    venues = list(zip(cols.mapped("venue_name", folded=True), cols.mapped("city", folded=True)))
    zones, countries = cols.mapped("timezone"), cols.mapped("country")
    first: dict[tuple, int] = {}
    for i, venue in enumerate(venues):
        if i in cols.bad:
            continue
        j = first.setdefault(venue, i)
        for name, column in (("timezone", zones), ("country", countries)):
            if column[i] != column[j]:
                cols.report([i], name, lambda _: f"{column[i]} here, but {column[j]} for the same venue on line "
                                                 f"{cols.lines[j]}", skip_later=False)


def _instants(cols: _Columns) -> dict[tuple, dict]:
    """The local wall-clock times (in the zone, on the date) as instants, for each distinct combination of date,
    zone and times (WHEN); services/times.py has the rules. A row whose combination is refused is reported."""
    value = cols.values
    found: dict[tuple, dict] = {}
    refused: dict[tuple, tuple[str, str]] = {}
    for key in cols.combos[WHEN]:
        date, zone = value["date"].get(key[0]), value["timezone"].get(key[1])
        clocks = [value[column].get(text, False) for column, text in zip(TIME_COLUMNS, key[2:])]
        if date is None or zone is None or False in clocks:
            continue  # the row is reported already
        try:
            found[key] = times.local_instants(date, zone, dict(zip(TIME_COLUMNS.values(), clocks)))
        except ValueError as e:
            field_name, _, message = str(e).partition(": ")
            refused[key] = (next((c for c, f in TIME_COLUMNS.items() if f == field_name), field_name), message)
    if refused:
        keys = cols.table.keys(WHEN)
        for i in cols.rows_with(keys, refused):
            if i not in cols.bad:
                column, message = refused[keys[i]]
                cols.report([i], column, lambda _: message)
    return found


def plan_venues(table: Table) -> Plan:
    plan = Plan("venues", table.source, problems=list(table.problems))
    if _missing_columns(table, VENUE_REQUIRED, plan):
        return plan
    cols = _Columns(table, VENUE_RULES, plan)
    names, cities = cols.mapped("name", folded=True), cols.mapped("city", folded=True)
    cols.unique(list(zip(names, cities)), "venue", "name and city identify a venue")
    if plan.problems:
        return plan
    for i, line in enumerate(table.lines):
        venue = cols.row(i)
        ref = venue.pop("external_ref") or _ref(names[i], cities[i])
        plan.lines[ref] = line
        plan.rows.append(venue | {"external_ref": ref})
    return plan


def read_plan(kind: str, path: str, fmt: str, *, mapping: dict[str, str | None] | None = None,
              date_format: str | None = None, data: bytes | str | None = None) -> Plan:
    """Read and validate a file: the rows to send, or the problems found (every one of them)."""
    with _collector_paused():
        if kind == "shows":
            return plan_shows(read_table(path, fmt, SHOW_FIELDS, SHOW_ALIASES, mapping, data), date_format)
        return plan_venues(read_table(path, fmt, VENUE_FIELDS, VENUE_ALIASES, mapping, data))


@contextmanager
def _collector_paused():
    """A file becomes an object or more per cell, all kept until sent, none in a reference cycle: the cyclic garbage
    collector would only walk them again and again while they are made (a third of the time of a large file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- sending ---------------------------------------------------------------------------------------------------------
def payload(org_id: str, rows: list[dict], dry_run: bool) -> bytes:
    return json.dumps({"org_id": org_id, "rows": rows, "dry_run": dry_run}, ensure_ascii=False,
                      separators=(",", ":")).encode()


class ImportService:
    """Sends a validated plan through the API: the whole file in one RPC call (one transaction)."""

    def __init__(self, api: Api, org_id: str) -> None:
        self.api = api
        self.org_id = org_id

    def send(self, plan: Plan, dry_run: bool = False, batch_size: int | None = None,
             on_batch: Callable[[int, int], None] | None = None) -> dict:
        from oncore_cli.core.errors import from_postgrest

        batches = [plan.rows] if not batch_size else \
            [plan.rows[i:i + batch_size] for i in range(0, len(plan.rows), batch_size)] or [[]]
        total: dict = {}
        for number, rows in enumerate(batches, start=1):
            body = payload(self.org_id, rows, dry_run)
            if len(body) > MAX_BODY:
                raise _too_large(plan.source, len(rows), len(body), MAX_BODY)
            response = self.api.request("POST", f"/rest/v1/rpc/import_{plan.kind}", content=body,
                                        headers={"Content-Type": "application/json"})
            if response.status_code == 413:  # a server with a lower limit than ours
                raise _too_large(plan.source, len(rows), len(body), len(body) - 1)
            if response.status_code >= 400:
                try:
                    detail = response.json()
                except ValueError:
                    detail = None
                if isinstance(detail, dict) and detail.get("code") == "57014":
                    raise OncoreError(f"{plan.source}: the server stopped the import at its statement timeout "
                                      f"({len(rows)} rows in one transaction); nothing was written: pass "
                                      "--batch-size N (each batch commits on its own), or --db-url")
                raise from_postgrest(response.status_code, detail)
            total = merge_counts(total, response.json())
            if on_batch:
                on_batch(number, len(batches))
        return total


def _too_large(source: str, rows: int, size: int, limit: int) -> UsageError:
    return UsageError(f"{source}: {rows} rows make a {size / 1024 / 1024:.1f} MB request, over the API's limit "
                      f"({limit / 1024 / 1024:.0f} MB): pass --batch-size {max(1, int(rows * limit / size * 0.9))} "
                      "(each batch commits on its own), or --db-url for a direct database load")


def merge_counts(total: dict, part: dict) -> dict:
    if not total:
        return part
    merged = dict(total)
    for key in ("shows", "venues"):
        if key in part:
            merged[key] = {k: total.get(key, {}).get(k, 0) + v for k, v in part[key].items()}
    merged["changes"] = [*total.get("changes", []), *part.get("changes", [])]
    return merged


def send_direct(conninfo: str, org: str, plan: Plan, dry_run: bool = False) -> dict:
    """The CI fast path: COPY the rows into a temporary table and call the same RPC on them, in one transaction,
    as the service (the database URL's owner may do anything; the RPC still validates every row)."""
    from oncore_cli.core.database import connect
    from oncore_cli.core.errors import NotFoundError

    with connect(conninfo, autocommit=False) as conn:
        with conn.transaction():
            found = conn.execute("select id from public.organizations where slug = %s or id::text = %s",
                                 (org, org)).fetchone()
            if not found:
                raise NotFoundError(f"organization {org!r} not found in that database")
            conn.execute("select set_config('request.jwt.claims', '{\"role\": \"service_role\"}', true)")
            conn.execute("create temporary table import_rows (n serial, doc jsonb) on commit drop")
            with conn.cursor().copy("copy import_rows (doc) from stdin") as copy:
                for row in plan.rows:
                    copy.write_row((json.dumps(row, ensure_ascii=False),))
            result = conn.execute(
                f"select public.import_{plan.kind}(%s, (select coalesce(jsonb_agg(doc order by n), '[]') "
                "from import_rows), %s)", (found[0], dry_run)).fetchone()[0]
    return result
