"""ImportService: tour files (CSV, JSON, NDJSON) into shows and venues, validated first, written in one call.

The file format is the tour spreadsheet tour managers keep (docs: README, "Importing a tour"). Every record is
validated (pydantic) before anything is sent; a file with any problem writes nothing. The rows then go to the
`import_shows` / `import_venues` RPC in one request, so one transaction: the file lands completely or not at all,
and running it again writes nothing. With a database URL (CI), the same RPC is fed through COPY instead.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

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


# -- validation models -------------------------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _date(text: str, fmt: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, fmt).date()
    except ValueError:
        if fmt == _US and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2}", text):
            return dt.datetime.strptime(text, "%m/%d/%y").date()  # Excel's short US date
        shown = {v: k for k, v in DATE_FORMATS.items()}.get(fmt, fmt)
        raise ValueError(f"{text!r} is not a date in the file's format ({shown}: "
                         f"{dt.date(2027, 3, 14).strftime(fmt)}); pass --date-format if the file uses another") \
            from None


@lru_cache(maxsize=1024)
def _clock(text: str) -> str:
    return times.clock(text)


@lru_cache(maxsize=1024)
def _zone(name: str) -> str:
    try:
        times.zone(name)
    except UsageError:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin, America/New_York)") from None
    if "/" not in name and name not in ("UTC",):
        raise ValueError(f"{name!r} is an abbreviation, not an IANA time zone: use e.g. Europe/Berlin")
    return name


def _text(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        return unicodedata.normalize("NFC", value) if not value.isascii() else value
    return value


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _clean(cls, data: Any) -> Any:
        # Empty cells are missing values; text keeps its accents in one (NFC) form.
        return {k: _text(v) for k, v in data.items()} if isinstance(data, dict) else data

    @field_validator("country", mode="before", check_fields=False)
    @classmethod
    def _country(cls, value: Any) -> Any:
        if value is None:
            return value
        if not (isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isascii()):
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code (e.g. DE, GB, US)")
        return value.upper()

    @field_validator("timezone", mode="before", check_fields=False)
    @classmethod
    def _timezone(cls, value: Any) -> Any:
        return value if value is None else _zone(str(value))

    @field_validator("capacity", mode="before", check_fields=False)
    @classmethod
    def _capacity(cls, value: Any) -> Any:
        if value is None:
            return value
        text = str(value).replace(",", "").replace("_", "")
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{value!r} is not a positive whole number")
        return int(text)


class ShowRecord(_Row):
    date: dt.date
    city: str
    country: str
    venue_name: str
    venue_address: str | None = None
    capacity: int | None = None
    status: Literal["hold", "confirmed", "cancelled"]
    load_in: str | None = None
    doors: str | None = None
    set_time: str | None = None
    curfew: str | None = None
    timezone: str
    promoter_email: str | None = None
    notes: str | None = None
    external_ref: str | None = None
    title: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        return value if value is None else _date(str(value), info.context["date_format"])

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Any:
        if value is None:
            return value
        status = str(value).lower()
        if status not in ("hold", "confirmed", "cancelled"):
            raise ValueError(f"{value!r} is not a status: use confirmed, hold or cancelled")
        return status

    @field_validator("load_in", "doors", "set_time", "curfew", mode="before")
    @classmethod
    def _time(cls, value: Any) -> Any:
        return value if value is None else _clock(str(value))

    @field_validator("promoter_email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if value is not None and not _EMAIL.match(str(value)):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class VenueRecord(_Row):
    name: str
    city: str
    country: str | None = None
    timezone: str | None = None
    capacity: int | None = None
    address: str | None = None
    postcode: str | None = None
    region: str | None = None
    venue_type: str | None = None
    notes: str | None = None
    external_ref: str | None = None


# -- identity --------------------------------------------------------------------------------------------------------
def _key(*parts: str) -> str:
    return "|".join(" ".join(p.split()).casefold() for p in parts)


def venue_ref(name: str, city: str) -> str:
    """A venue's stable key when the file has none: its identity (name, city), compared without case."""
    return _key(name, city)


def show_ref(date: dt.date, venue_name: str, city: str) -> str:
    """A show's stable key when the file has none: its identity (date, venue_name, city)."""
    return _key(date.isoformat(), venue_name, city)


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


def _pydantic_problems(error: ValidationError, line: int, columns: dict[str, str]) -> list[Problem]:
    found = []
    for item in error.errors(include_url=False):
        name = str(item["loc"][0]) if item["loc"] else ""
        if item["type"] == "missing" or item.get("input", "") is None:
            message = "required"
        elif item["type"] == "value_error":
            message = str(item["ctx"]["error"]) if "ctx" in item else item["msg"]
        else:
            message = item["msg"]
        found.append(Problem(line, columns.get(name, name), message))
    return found


def _missing_columns(table: Table, required: tuple[str, ...], plan: Plan) -> bool:
    if table.records and not table.problems:
        missing = [f for f in required if f not in table.columns]
        for name in missing:
            plan.problems.append(Problem(1, name, "required column is missing (or map one with --map COLUMN="
                                         f"{name})"))
        return bool(missing)
    return False


def _date_format(table: Table, given: str | None) -> str:
    if given:
        return DATE_FORMATS.get(given.lower(), given)
    for _, record in table.records:
        value = (record.get("date") or "").strip()
        if value:
            return _US if "/" in value else _ISO  # a file uses one format throughout: the first date decides
    return _ISO


def plan_shows(table: Table, date_format: str | None = None,
               progress: Callable[[int], None] | None = None) -> Plan:
    plan = Plan("shows", table.source, problems=list(table.problems))
    if _missing_columns(table, SHOW_REQUIRED, plan):
        return plan
    context = {"date_format": _date_format(table, date_format)}
    columns = table.columns
    seen: dict[str, int] = {}
    venues: dict[str, tuple[int, ShowRecord]] = {}
    validate = ShowRecord.model_validate
    for count, (line, record) in enumerate(table.records, start=1):
        if progress and count % 1000 == 0:
            progress(count)
        try:
            show = validate(record, context=context)
        except ValidationError as e:
            plan.problems += _pydantic_problems(e, line, columns)
            continue
        ref = show.external_ref or show_ref(show.date, show.venue_name, show.city)
        if ref in seen:
            plan.problems.append(Problem(line, "", f"the same show as line {seen[ref]} "
                                         "(date, venue_name and city identify a show)"))
            continue
        seen[ref] = line
        vref = venue_ref(show.venue_name, show.city)
        first = venues.setdefault(vref, (line, show))
        if first[0] != line:
            for name in ("timezone", "country"):
                if getattr(first[1], name) != getattr(show, name):
                    plan.problems.append(Problem(line, columns.get(name, name), f"{getattr(show, name)} here, but "
                                                 f"{getattr(first[1], name)} for the same venue on line {first[0]}"))
        try:
            instants = show_instants(show)
        except ValueError as e:
            column, _, message = str(e).partition(": ")
            plan.problems.append(Problem(line, columns.get(column, column), message))
            continue
        plan.lines[ref] = line
        plan.rows.append({
            "external_ref": ref, "date": show.date.isoformat(), "status": show.status, **instants,
            "capacity": show.capacity, "promoter_email": show.promoter_email, "notes": show.notes,
            **({"title": show.title} if show.title else {}),
            "venue": {"external_ref": vref, "name": show.venue_name, "city": show.city, "country": show.country,
                      "timezone": show.timezone, "address": show.venue_address},
        })
    if progress:
        progress(len(table.records))
    return plan


def show_instants(show: ShowRecord) -> dict[str, str | None]:
    """The row's local wall-clock times (in its timezone, on its date) as instants: the one place an import reads
    local times (services/times.py does the conversion). Raises ValueError "column: problem"."""
    given = {field: getattr(show, column) for column, field in TIME_COLUMNS.items()}
    try:
        return times.local_instants(show.date, show.timezone, given)
    except ValueError as e:
        field, _, message = str(e).partition(": ")
        column = next((c for c, f in TIME_COLUMNS.items() if f == field), field)
        raise ValueError(f"{column}: {message}") from None


def plan_venues(table: Table, progress: Callable[[int], None] | None = None) -> Plan:
    plan = Plan("venues", table.source, problems=list(table.problems))
    if _missing_columns(table, VENUE_REQUIRED, plan):
        return plan
    seen: dict[str, int] = {}
    for count, (line, record) in enumerate(table.records, start=1):
        if progress and count % 1000 == 0:
            progress(count)
        try:
            venue = VenueRecord.model_validate(record)
        except ValidationError as e:
            plan.problems += _pydantic_problems(e, line, table.columns)
            continue
        identity = venue_ref(venue.name, venue.city)
        if identity in seen:
            plan.problems.append(Problem(line, "", f"the same venue as line {seen[identity]} "
                                         "(name and city identify a venue)"))
            continue
        seen[identity] = line
        ref = venue.external_ref or identity
        plan.lines[ref] = line
        plan.rows.append(venue.model_dump(exclude={"external_ref"}) | {"external_ref": ref})
    return plan


def read_plan(kind: str, path: str, fmt: str, *, mapping: dict[str, str | None] | None = None,
              date_format: str | None = None, text: str | None = None,
              progress: Callable[[int], None] | None = None) -> Plan:
    """Read and validate a file: the rows to send, or the problems found (every one of them)."""
    if kind == "shows":
        table = read_table(path, fmt, SHOW_FIELDS, SHOW_ALIASES, mapping, text)
        return plan_shows(table, date_format, progress)
    table = read_table(path, fmt, VENUE_FIELDS, VENUE_ALIASES, mapping, text)
    return plan_venues(table, progress)


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
