"""shows list|create|show|update|delete|export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, OrgOpt, YesOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Show days: date, venue, status and times (local to the venue).")
ShowArg = Annotated[str, typer.Argument(metavar="SHOW", help="Id, unique id prefix, external ref or date (YYYY-MM-DD).")]

FromOpt = Annotated[Optional[str], typer.Option("--from", metavar="DATE", help="First day (YYYY-MM-DD, today).")]
ToOpt = Annotated[Optional[str], typer.Option("--to", metavar="DATE", help="Last day (YYYY-MM-DD).")]
StatusFilter = Annotated[Optional[str], typer.Option("--status", metavar="STATUS", help="hold, confirmed or cancelled.")]
VenueFilter = Annotated[Optional[str], typer.Option("--venue", metavar="VENUE", help="Venue name, ref or id.")]
TitleOpt = Annotated[Optional[str], typer.Option("--title", metavar="TEXT", help="Title, e.g. the festival's name.")]
LoadInOpt = Annotated[Optional[str], typer.Option("--load-in", metavar="HH:MM", help="Load-in (local time at the show).")]
DoorsOpt = Annotated[Optional[str], typer.Option("--doors", metavar="HH:MM", help="Doors (local time at the show).")]
SetOpt = Annotated[Optional[str], typer.Option("--set-time", metavar="HH:MM", help="Set time (local time at the show).")]
CurfewOpt = Annotated[Optional[str], typer.Option(
    "--curfew", metavar="HH:MM", help="Curfew (local; earlier than doors, or alone before 06:00, is after midnight).")]
TimezoneOpt = Annotated[Optional[str], typer.Option(
    "--timezone", "--tz", metavar="TZ", help="IANA zone of the show's times (default: the venue's), e.g. Europe/Berlin.")]
CapacityOpt = Annotated[Optional[int], typer.Option("--capacity", metavar="N", min=0, help="Capacity for this show.")]
CurrencyOpt = Annotated[Optional[str], typer.Option("--currency", metavar="CODE", help="ISO 4217 code, e.g. EUR.")]
PromoterOpt = Annotated[Optional[str], typer.Option("--promoter-email", metavar="EMAIL", help="Promoter's e-mail.")]
NotesOpt = Annotated[Optional[str], typer.Option("--notes", metavar="TEXT", help="Free-text notes.")]
RefOpt = Annotated[Optional[str], typer.Option("--external-ref", metavar="REF", help="Your own id for imports.")]


def _hhmm(field: str):
    def display(row: dict) -> str:
        from oncore_cli.services.times import local_hhmm

        return local_hhmm(row.get(field), row.get("timezone"), row.get("date"))

    return display


STATUS_STYLES = {"confirmed": "green", "hold": "yellow", "cancelled": "red strike"}


def _status_style(row: dict) -> str | None:
    return STATUS_STYLES.get(row.get("status") or "")


def list_columns():
    from oncore_cli.core.output import Column

    return [Column("date", "Date"), Column("status", "Status", style=_status_style),
            Column("venue_name", "Venue", flex=True, drop=1), Column("city", "City", flex=True, drop=2),
            Column("doors_at", "Doors", _hhmm("doors_at")), Column("curfew_at", "Curfew", _hhmm("curfew_at")),
            Column("title", "Title", flex=True, drop=3), Column("id", "Id", lambda r: r["id"][:8])]


def detail_columns():
    from oncore_cli.core.output import Column

    return [Column("date", "Date"), Column("status", "Status"), Column("title", "Title"), Column("id", "Id"),
            Column("venue_name", "Venue"), Column("city", "City"), Column("timezone", "Timezone"),
            Column("load_in_at", "Load-in", _hhmm("load_in_at")), Column("doors_at", "Doors", _hhmm("doors_at")),
            Column("set_time_at", "Set", _hhmm("set_time_at")), Column("curfew_at", "Curfew", _hhmm("curfew_at")),
            Column("capacity", "Capacity"), Column("currency", "Currency"),
            Column("promoter_email", "Promoter"), Column("notes", "Notes"), Column("external_ref", "External ref")]


@dataclass
class Filters:
    date_from: str | None = None
    date_to: str | None = None
    status: str | None = None
    venue: str | None = None
    limit: int | None = None
    org: str | None = None


@dataclass
class Fields:
    """What create and update can set; times are HH:MM at the venue ("" clears one on update)."""

    title: str | None = None
    load_in: str | None = None
    doors: str | None = None
    set_time: str | None = None
    curfew: str | None = None
    capacity: int | None = None
    currency: str | None = None
    promoter_email: str | None = None
    notes: str | None = None
    external_ref: str | None = None
    timezone: str | None = None

    def times(self) -> dict[str, str | None]:
        return {"load_in_at": self.load_in, "doors_at": self.doors, "set_time_at": self.set_time,
                "curfew_at": self.curfew}

    def values(self) -> dict:
        return {"title": self.title, "capacity": self.capacity, "currency": self.currency,
                "promoter_email": self.promoter_email, "notes": self.notes, "external_ref": self.external_ref,
                "timezone": self.timezone}


def _service(app_: App, org: str | None):
    from oncore_cli.services.shows import ShowService

    return ShowService(app_.api, app_.org(org).id, note=app_.output.warn)


def _shows(filters: Filters, app_: App):
    from oncore_cli.core.errors import UsageError
    from oncore_cli.services.times import parse_date

    start = parse_date(filters.date_from, "--from date") if filters.date_from else None
    end = parse_date(filters.date_to, "--to date") if filters.date_to else None
    if start and end and end < start:
        raise UsageError("--to is before --from")
    return _service(app_, filters.org).list(date_from=start, date_to=end, status=filters.status,
                                            venue=filters.venue, limit=filters.limit)


# -- list ------------------------------------------------------------------------------------------------------
@app.command("list")
def list_(ctx: typer.Context, date_from: FromOpt = None, date_to: ToOpt = None, status: StatusFilter = None,
          venue: VenueFilter = None,
          limit: Annotated[Optional[int], typer.Option("--limit", "-L", metavar="N", min=1, help="At most N shows.")] = None,
          org: OrgOpt = None, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List shows by date. Times are shown in each venue's local time (+1: the next day).

    \b
    Examples:
      $ oncore shows list --from today --status confirmed
      $ oncore shows list --json | jq '.[].date'
    """
    app_ = get_app(ctx)
    run_list(Filters(date_from, date_to, status, venue, limit, org), app_.output.with_format(fmt, json), app_)


def run_list(filters: Filters, out, app_: App) -> None:
    out.rows([s.data() for s in _shows(filters, app_)], list_columns(), empty="no shows found")


# -- create ----------------------------------------------------------------------------------------------------
@dataclass
class CreateOptions:
    date: str
    venue: str | None
    status: str
    fields: Fields
    org: str | None
    json: bool


@app.command("create")
def create(ctx: typer.Context,
           date: Annotated[str, typer.Option("--date", "-d", metavar="DATE", help="Local show day, YYYY-MM-DD.")],
           venue: Annotated[Optional[str], typer.Option("--venue", metavar="VENUE", help="Venue name, ref or id.")] = None,
           status: Annotated[str, typer.Option("--status", metavar="STATUS", help="hold, confirmed or cancelled.")] = "hold",
           title: TitleOpt = None, load_in: LoadInOpt = None, doors: DoorsOpt = None, set_time: SetOpt = None,
           curfew: CurfewOpt = None, timezone: TimezoneOpt = None, capacity: CapacityOpt = None,
           currency: CurrencyOpt = None, promoter_email: PromoterOpt = None, notes: NotesOpt = None,
           external_ref: RefOpt = None, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Create a show. Times are HH:MM at the show, in its venue's time zone (or --timezone); they stay those
    wall-clock times if the venue's zone is corrected or the venue is deleted.

    \b
    Examples:
      $ oncore shows create --date 2026-05-01 --venue columbiahalle --status confirmed --doors 19:00 --curfew 23:00
      $ oncore shows create -d 2026-05-02 --venue "Lido" --doors 20:00 --curfew 01:00   # curfew next morning
    """
    fields = Fields(title, load_in, doors, set_time, curfew, capacity, currency, promoter_email, notes, external_ref,
                    timezone)
    run_create(CreateOptions(date, venue, status, fields, org, json), get_app(ctx))


def run_create(opts: CreateOptions, app_: App) -> None:
    from oncore_cli.services.times import parse_date

    day = parse_date(opts.date)
    times = {k: v for k, v in opts.fields.times().items() if v is not None}
    show = _service(app_, opts.org).create(date=day, venue=opts.venue, status=opts.status, times=times,
                                           **opts.fields.values())
    app_.output.message(f"Created show {show.date} at {show.venue_name or 'no venue'} ({show.id[:8]}, {show.status}).")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(show.data(), detail_columns())


# -- show ------------------------------------------------------------------------------------------------------
@app.command("show")
def show(ctx: typer.Context, show_ref: ShowArg, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Show one show day.

    \b
    Examples:
      $ oncore shows show 2026-05-01
      $ oncore shows show 7c1e --json
    """
    app_ = get_app(ctx)
    run_show(show_ref, org, app_.output.with_format(None, json), app_)


def run_show(show_ref: str, org: str | None, out, app_: App) -> None:
    out.item(_service(app_, org).get(show_ref).data(), detail_columns())


# -- update ----------------------------------------------------------------------------------------------------
@dataclass
class UpdateOptions:
    show: str
    date: str | None
    venue: str | None
    status: str | None
    fields: Fields
    org: str | None
    json: bool


@app.command("update")
def update(ctx: typer.Context, show_ref: ShowArg,
           date: Annotated[Optional[str], typer.Option("--date", "-d", metavar="DATE", help="Move to another day.")] = None,
           venue: Annotated[Optional[str], typer.Option("--venue", metavar="VENUE", help="Move to another venue.")] = None,
           status: Annotated[Optional[str], typer.Option("--status", metavar="STATUS", help="hold, confirmed or cancelled.")] = None,
           title: TitleOpt = None, load_in: LoadInOpt = None, doors: DoorsOpt = None, set_time: SetOpt = None,
           curfew: CurfewOpt = None, timezone: TimezoneOpt = None, capacity: CapacityOpt = None,
           currency: CurrencyOpt = None, promoter_email: PromoterOpt = None, notes: NotesOpt = None,
           external_ref: RefOpt = None, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Change a show (only the fields given). An empty time ("") clears it. A new --venue or --timezone keeps
    the show's wall-clock times.

    \b
    Examples:
      $ oncore shows update 2026-05-01 --status confirmed --doors 19:30
    """
    fields = Fields(title, load_in, doors, set_time, curfew, capacity, currency, promoter_email, notes, external_ref,
                    timezone)
    run_update(UpdateOptions(show_ref, date, venue, status, fields, org, json), get_app(ctx))


def run_update(opts: UpdateOptions, app_: App) -> None:
    from oncore_cli.services.times import parse_date

    updated = _service(app_, opts.org).update(
        opts.show, venue=opts.venue, times=opts.fields.times(), date=parse_date(opts.date) if opts.date else None,
        status=opts.status, **opts.fields.values())
    app_.output.message(f"Updated show {updated.date} ({updated.id[:8]}).")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(updated.data(), detail_columns())


# -- delete ----------------------------------------------------------------------------------------------------
@app.command("delete")
def delete(ctx: typer.Context, show_ref: ShowArg, org: OrgOpt = None, yes: YesOpt = False) -> None:
    """Delete a show and its advancing.

    \b
    Examples:
      $ oncore shows delete 7c1e --yes
    """
    run_delete(show_ref, org, yes, get_app(ctx))


def run_delete(show_ref: str, org: str | None, yes: bool, app_: App) -> None:
    service = _service(app_, org)
    found = service.get(show_ref)
    sessions = service.sessions_of(found.id)
    also = f" and its {len(sessions)} advancing session(s) with everything the venue sent" if sessions else ""
    app_.confirm(f"Delete the show on {found.date} at {found.venue_name or 'no venue'}{also}?", yes=yes)
    service.delete(found.id)
    app_.output.message(f"Deleted show {found.date} ({found.id[:8]}){also}.")
    app_.output.result(found.data(), detail_columns())


# -- export ----------------------------------------------------------------------------------------------------
EXPORT_FORMATS = ("csv", "json", "ics")


@dataclass
class ExportOptions:
    fmt: str
    output: str | None
    filters: Filters


@app.command("export")
def export(ctx: typer.Context,
           fmt: Annotated[str, typer.Option("--format", "-o", "-f", metavar="FORMAT", help="csv, json or ics (-o as everywhere; -f also works).")] = "ics",
           output: Annotated[Optional[str], typer.Option("--output", "-O", metavar="FILE", help="Write to FILE instead of stdout.")] = None,
           date_from: FromOpt = None, date_to: ToOpt = None, status: StatusFilter = None, venue: VenueFilter = None,
           org: OrgOpt = None) -> None:
    """Export shows as CSV, JSON or an iCalendar file for Google or Apple Calendar.

    \b
    Examples:
      $ oncore shows export --format ics --from today -O tour.ics
      $ oncore shows export --format csv > shows.csv
    """
    fmt = fmt.lower()
    if fmt not in EXPORT_FORMATS:
        from oncore_cli.core.errors import UsageError

        raise UsageError(f"unknown export format {fmt!r}: use csv, json or ics")
    run_export(ExportOptions(fmt, output, Filters(date_from, date_to, status, venue, None, org)), get_app(ctx))


def run_export(opts: ExportOptions, app_: App) -> None:
    import sys

    shows = _shows(opts.filters, app_)
    if opts.fmt == "ics":
        from oncore_cli.services.ics import calendar

        text = calendar(shows, name=f"{app_.org(opts.filters.org).name} shows")
    elif opts.fmt == "json":
        import json

        text = json.dumps([s.data() for s in shows], indent=2, ensure_ascii=False) + "\n"
    else:
        import io

        from oncore_cli.core.output import Output
        from oncore_cli.models.core import Show

        buffer = io.StringIO()
        Output("csv").csv([s.data() for s in shows], fields=list(Show.model_fields), stream=buffer)
        text = buffer.getvalue()
    if opts.output:
        from pathlib import Path

        Path(opts.output).write_bytes(text.encode())  # bytes: the CRLF endings ICS needs stay as they are
        app_.output.message(f"Wrote {len(shows)} show(s) to {opts.output}.")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
