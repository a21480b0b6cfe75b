"""venues list|create|show|update|delete."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, OrgOpt, YesOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Venues: the rooms your organization plays.")
VenueArg = Annotated[str, typer.Argument(metavar="VENUE", help="Name, external ref, id or unique id prefix.")]

NameOpt = Annotated[Optional[str], typer.Option("--name", metavar="NAME", help="Venue name.")]
CityOpt = Annotated[Optional[str], typer.Option("--city", metavar="CITY", help="City.")]
CountryOpt = Annotated[Optional[str], typer.Option("--country", metavar="CC", help="ISO 3166 alpha-2 code, e.g. DE.")]
TimezoneOpt = Annotated[Optional[str], typer.Option("--timezone", "--tz", metavar="TZ", help="IANA time zone, e.g. Europe/Berlin.")]
CapacityOpt = Annotated[Optional[int], typer.Option("--capacity", metavar="N", min=0, help="Capacity.")]
AddressOpt = Annotated[Optional[str], typer.Option("--address", metavar="TEXT", help="Street address.")]
PostcodeOpt = Annotated[Optional[str], typer.Option("--postcode", metavar="TEXT", help="Postcode.")]
RegionOpt = Annotated[Optional[str], typer.Option("--region", metavar="TEXT", help="Region or state.")]
TypeOpt = Annotated[Optional[str], typer.Option("--type", metavar="TYPE", help="Venue type (club, theatre, arena, festival…).")]
NotesOpt = Annotated[Optional[str], typer.Option("--notes", metavar="TEXT", help="Free-text notes.")]
RefOpt = Annotated[Optional[str], typer.Option("--external-ref", metavar="REF", help="Your own id for imports.")]


def list_columns():
    from oncore_cli.core.output import Column

    return [Column("name", "Name", flex=True, drop=1), Column("city", "City", flex=True, drop=2),
            Column("country", "Country"), Column("capacity", "Capacity"), Column("timezone", "Timezone"),
            Column("id", "Id", lambda r: r["id"][:8])]


def detail_columns():
    from oncore_cli.core.output import Column

    return [Column("name", "Name"), Column("id", "Id"), Column("address", "Address"), Column("postcode", "Postcode"),
            Column("city", "City"), Column("region", "Region"), Column("country", "Country"),
            Column("timezone", "Timezone"), Column("capacity", "Capacity"), Column("venue_type", "Type"),
            Column("notes", "Notes"), Column("external_ref", "External ref")]


@dataclass
class VenueFields:
    """What create and update can set, named as the columns are."""

    name: str | None = None
    city: str | None = None
    country: str | None = None
    timezone: str | None = None
    capacity: int | None = None
    address: str | None = None
    postcode: str | None = None
    region: str | None = None
    venue_type: str | None = None
    notes: str | None = None
    external_ref: str | None = None

    def given(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class VenueOptions:
    venue: str | None  # the venue to show, update or delete
    fields: VenueFields
    org: str | None = None
    json: bool = False
    fmt: str | None = None
    yes: bool = False


def _service(app_: App, org: str | None):
    from oncore_cli.services.venues import VenueService

    return VenueService(app_.api, app_.org(org).id, note=app_.output.warn)


@app.command("list")
def list_(ctx: typer.Context, city: CityOpt = None,
          name: Annotated[Optional[str], typer.Option("--name", metavar="TEXT", help="Part of the venue name.")] = None,
          org: OrgOpt = None, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List venues, optionally filtered by city or part of the name.

    \b
    Examples:
      $ oncore venues list --city berlin
      $ oncore venues list --format csv > venues.csv
    """
    run_list(VenueOptions(None, VenueFields(name=name, city=city), org, json, fmt), get_app(ctx))


def run_list(opts: VenueOptions, app_: App) -> None:
    rows = [v.data() for v in _service(app_, opts.org).list(city=opts.fields.city, name=opts.fields.name)]
    app_.output.with_format(opts.fmt, opts.json).rows(rows, list_columns(), empty="no venues found")


@app.command("create")
def create(ctx: typer.Context,
           name: Annotated[Optional[str], typer.Argument(metavar="NAME", help="Venue name (or --name).")] = None,
           name_option: NameOpt = None, city: CityOpt = None, country: CountryOpt = None, timezone: TimezoneOpt = None,
           capacity: CapacityOpt = None, address: AddressOpt = None, postcode: PostcodeOpt = None,
           region: RegionOpt = None, venue_type: TypeOpt = None, notes: NotesOpt = None,
           external_ref: RefOpt = None, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Create a venue. Show times at it are local to its --timezone; without one, the --country's zone is taken
    when the country has only one (FR, DE, GB…), else the command lists the candidates.

    \b
    Examples:
      $ oncore venues create "Columbiahalle" --city Berlin --country DE --timezone Europe/Berlin --capacity 3500
      $ oncore venues create --name "Palladium" --city Köln --country DE --timezone Europe/Berlin
    """
    if name and name_option and name != name_option:
        raise typer.BadParameter("give the name once, as NAME or --name")
    fields = VenueFields(name or name_option, city, country, timezone, capacity, address, postcode, region,
                         venue_type, notes, external_ref)
    run_create(VenueOptions(None, fields, org, json), get_app(ctx))


def run_create(opts: VenueOptions, app_: App) -> None:
    venue = _service(app_, opts.org).create(opts.fields.given())
    app_.output.message(f"Created venue {venue.name} ({venue.id[:8]}).")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(venue.data(), detail_columns())


@app.command("show")
def show(ctx: typer.Context, venue: VenueArg, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Show one venue.

    \b
    Examples:
      $ oncore venues show columbiahalle
      $ oncore venues show 3f2a --json
    """
    run_show(VenueOptions(venue, VenueFields(), org, json), get_app(ctx))


def run_show(opts: VenueOptions, app_: App) -> None:
    found = _service(app_, opts.org).get(opts.venue)
    app_.output.with_format(None, opts.json).item(found.data(), detail_columns())


@app.command("update")
def update(ctx: typer.Context, venue: VenueArg, name: NameOpt = None, city: CityOpt = None,
           country: CountryOpt = None, timezone: TimezoneOpt = None, capacity: CapacityOpt = None,
           address: AddressOpt = None, postcode: PostcodeOpt = None, region: RegionOpt = None,
           venue_type: TypeOpt = None, notes: NotesOpt = None, external_ref: RefOpt = None,
           org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Change a venue's fields (only those given).

    \b
    Examples:
      $ oncore venues update columbiahalle --capacity 3600
    """
    fields = VenueFields(name, city, country, timezone, capacity, address, postcode, region, venue_type, notes,
                         external_ref)
    run_update(VenueOptions(venue, fields, org, json), get_app(ctx))


def run_update(opts: VenueOptions, app_: App) -> None:
    service = _service(app_, opts.org)
    before = service.get(opts.venue)
    updated = service.update(before.id, opts.fields.given())
    app_.output.message(f"Updated venue {updated.name}.")
    if updated.timezone != before.timezone:
        count = len(service.shows_at(updated.id))
        if count:
            app_.output.message(f"Its {count} show(s) keep their local times, now in {updated.timezone}.")
    if opts.json or app_.fmt == "json":  # the command's --json or the global one
        app_.output.with_format(None, True).item(updated.data(), detail_columns())


@app.command("delete")
def delete(ctx: typer.Context, venue: VenueArg, org: OrgOpt = None, yes: YesOpt = False) -> None:
    """Delete a venue; its shows stay, without a venue, at the same local times.

    \b
    Examples:
      $ oncore venues delete columbiahalle --yes
    """
    run_delete(VenueOptions(venue, VenueFields(), org, yes=yes), get_app(ctx))


def run_delete(opts: VenueOptions, app_: App) -> None:
    service = _service(app_, opts.org)
    found = service.get(opts.venue)
    shows = service.shows_at(found.id)
    dates = ", ".join(s["date"] for s in shows[:5]) + ("…" if len(shows) > 5 else "")
    also = f" (its {len(shows)} show(s) on {dates} stay, without a venue, at the same local times)" if shows else ""
    app_.confirm(f"Delete venue {found.name}{also}?", yes=opts.yes)
    service.delete(found.id)
    app_.output.message(f"Deleted venue {found.name}.")
    app_.output.result(found.data(), detail_columns())
