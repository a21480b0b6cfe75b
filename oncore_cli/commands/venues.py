"""venues list|create|show|update|delete."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, OrgOpt, YesOpt, noun
from oncore_cli.core.context import get_app

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

    return [Column("name", "Name"), Column("city", "City"), Column("country", "Country"),
            Column("capacity", "Capacity"), Column("timezone", "Timezone"), Column("id", "Id", lambda r: r["id"][:8])]


def detail_columns():
    from oncore_cli.core.output import Column

    return [Column("name", "Name"), Column("id", "Id"), Column("address", "Address"), Column("postcode", "Postcode"),
            Column("city", "City"), Column("region", "Region"), Column("country", "Country"),
            Column("timezone", "Timezone"), Column("capacity", "Capacity"), Column("venue_type", "Type"),
            Column("notes", "Notes"), Column("external_ref", "External ref")]


def _service(app_, org):
    from oncore_cli.services.venues import VenueService

    return VenueService(app_.api, app_.org(org).id)


@app.command("list")
def list_(ctx: typer.Context, city: CityOpt = None,
          name: Annotated[Optional[str], typer.Option("--name", metavar="NAME", help="Part of the venue name.")] = None,
          org: OrgOpt = None, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List venues, optionally filtered by city or part of the name.

    \b
    Examples:
      $ oncore venues list --city berlin
      $ oncore venues list --format csv > venues.csv
    """
    app_ = get_app(ctx)
    rows = [v.data() for v in _service(app_, org).list(city=city, name=name)]
    app_.output.with_format(fmt, json).rows(rows, list_columns(), empty="no venues found")


@app.command("create")
def create(ctx: typer.Context, name: Annotated[str, typer.Argument(metavar="NAME", help="Venue name.")], city: CityOpt = None,
           country: CountryOpt = None, timezone: TimezoneOpt = None, capacity: CapacityOpt = None,
           address: AddressOpt = None, postcode: PostcodeOpt = None, region: RegionOpt = None,
           venue_type: TypeOpt = None, notes: NotesOpt = None, external_ref: RefOpt = None,
           org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Create a venue. Show times at it are local to its --timezone.

    \b
    Examples:
      $ oncore venues create "Columbiahalle" --city Berlin --country DE --timezone Europe/Berlin --capacity 3500
    """
    app_ = get_app(ctx)
    values = {"name": name, "city": city, "country": country, "timezone": timezone, "capacity": capacity,
              "address": address, "postcode": postcode, "region": region, "venue_type": venue_type,
              "notes": notes, "external_ref": external_ref}
    venue = _service(app_, org).create({k: v for k, v in values.items() if v is not None})
    app_.output.message(f"Created venue {venue.name} ({venue.id[:8]}).")
    if json:
        app_.output.with_format(None, True).item(venue.data(), detail_columns())


@app.command("show")
def show(ctx: typer.Context, venue: VenueArg, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Show one venue.

    \b
    Examples:
      $ oncore venues show columbiahalle
      $ oncore venues show 3f2a --json
    """
    app_ = get_app(ctx)
    app_.output.with_format(None, json).item(_service(app_, org).get(venue).data(), detail_columns())


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
    app_ = get_app(ctx)
    values = {"name": name, "city": city, "country": country, "timezone": timezone, "capacity": capacity,
              "address": address, "postcode": postcode, "region": region, "venue_type": venue_type,
              "notes": notes, "external_ref": external_ref}
    updated = _service(app_, org).update(venue, {k: v for k, v in values.items() if v is not None})
    app_.output.message(f"Updated venue {updated.name}.")
    if json:
        app_.output.with_format(None, True).item(updated.data(), detail_columns())


@app.command("delete")
def delete(ctx: typer.Context, venue: VenueArg, org: OrgOpt = None, yes: YesOpt = False) -> None:
    """Delete a venue; its shows stay, without a venue.

    \b
    Examples:
      $ oncore venues delete columbiahalle --yes
    """
    app_ = get_app(ctx)
    service = _service(app_, org)
    found = service.get(venue)
    app_.confirm(f"Delete venue {found.name}?", yes=yes)
    service.delete(found.id)
    app_.output.message(f"Deleted venue {found.name}.")
