"""import shows|venues: a tour file into the organization, validated first, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, List, Optional

import typer

from oncore_cli.core.cli import JsonOpt, OrgOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Import shows or venues from CSV, JSON or NDJSON (validated first; all or nothing).")

FileArg = Annotated[str, typer.Argument(metavar="FILE", help="CSV, JSON or NDJSON file; - reads stdin.")]
FormatOpt = Annotated[Optional[str], typer.Option(
    "--format", "-f", metavar="FORMAT", help="csv, json or ndjson (default: from the file's extension).")]
MapOpt = Annotated[Optional[List[str]], typer.Option(
    "--map", "-m", metavar="COLUMN=FIELD", help="Read COLUMN as FIELD (repeatable); COLUMN= ignores a column.")]
DateFormatOpt = Annotated[Optional[str], typer.Option(
    "--date-format", metavar="FORMAT",
    help="iso (2027-03-14), us (03/14/2027), eu (14/03/2027) or a strptime pattern such as %d.%m.%Y "
         "(default: ISO, or US when dates have slashes).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would be created, updated and left unchanged; "
                                                           "write nothing.")]
DbUrlOpt = Annotated[Optional[str], typer.Option(
    "--db-url", metavar="URL", envvar="ONCORE_DB_URL",
    help="Load straight into this PostgreSQL database (COPY, for CI) instead of through the API.")]
BatchOpt = Annotated[Optional[int], typer.Option(
    "--batch-size", metavar="N", min=1,
    help="Send N rows per request, each batch its own transaction (only for files over the API's request limit).")]


@dataclass
class ImportOptions:
    kind: str  # shows | venues
    path: str
    fmt: str | None = None
    mapping: list[str] = field(default_factory=list)
    date_format: str | None = None
    dry_run: bool = False
    json: bool = False
    org: str | None = None
    db_url: str | None = None
    batch_size: int | None = None


@app.command("shows")
def shows(ctx: typer.Context, path: FileArg, fmt: FormatOpt = None, mapping: MapOpt = None,
          date_format: DateFormatOpt = None, dry_run: DryRunOpt = False, json: JsonOpt = False, org: OrgOpt = None,
          db_url: DbUrlOpt = None, batch_size: BatchOpt = None) -> None:
    """Import shows from a tour file; their venues are matched by (name, city) or created once.

    The tour format's columns: date, city, country, venue_name, venue_address, capacity, status, load_in, doors,
    set_time, curfew, timezone, promoter_email, notes (required: date, city, country, venue_name, status,
    timezone). Times are local to the row's timezone on the show date; a time earlier than the one before it is
    after midnight. A show is identified by (date, venue_name, city), or by an external_ref column: importing
    the same file again changes nothing. Any bad row: every problem is listed, nothing is written (exit 2).

    \b
    Examples:
      $ oncore import shows tour.csv --dry-run
      $ oncore import shows tour.csv
      $ oncore import shows export.csv --map "Show Day=date" --map "Agent=" --date-format eu
      $ curl -s https://example.com/tour.ndjson | oncore import shows - --format ndjson --json
    """
    run_import(ImportOptions("shows", path, fmt, mapping or [], date_format, dry_run, json, org, db_url, batch_size),
               get_app(ctx))


@app.command("venues")
def venues(ctx: typer.Context, path: FileArg, fmt: FormatOpt = None, mapping: MapOpt = None,
           dry_run: DryRunOpt = False, json: JsonOpt = False, org: OrgOpt = None, db_url: DbUrlOpt = None,
           batch_size: BatchOpt = None) -> None:
    """Import venues: name, city, country, timezone, capacity, address, postcode, region, venue_type, notes,
    external_ref (required: name, city). A venue is matched by external_ref, then by (name, city); an empty cell
    leaves the venue's value as it is.

    \b
    Examples:
      $ oncore import venues venues.csv --dry-run --json
      $ oncore import venues venues.json
    """
    run_import(ImportOptions("venues", path, fmt, mapping or [], None, dry_run, json, org, db_url, batch_size),
               get_app(ctx))


def run_import(opts: ImportOptions, app_: App) -> None:
    from oncore_cli.core.errors import UsageError
    from oncore_cli.services.import_file import guess_format, parse_map, read_data
    from oncore_cli.services.imports import MAX_SHOWN, read_plan

    fmt = guess_format(opts.path, opts.fmt)
    mapping = parse_map(opts.mapping)
    out = app_.output
    with out.progress() as bar:
        bar.step(f"Reading {opts.path}")
        data = read_data(opts.path)
        bar.step("Validating")
        plan = read_plan(opts.kind, opts.path, fmt, mapping=mapping, date_format=opts.date_format, data=data)
    if plan.problems:  # printed once the progress bar is gone
        lines = plan.problem_lines()
        for line in lines[:MAX_SHOWN]:
            out.detail(line)
        if len(lines) > MAX_SHOWN:
            out.detail(f"… and {len(lines) - MAX_SHOWN} more problems")
        raise UsageError(f"{plan.source}: {len(lines)} problem{'s' if len(lines) != 1 else ''}, nothing imported")
    if not plan.rows:
        raise UsageError(f"{plan.source}: no {opts.kind} in the file")
    with out.progress() as bar:
        bar.step(f"Sending {len(plan.rows)} {opts.kind}")
        result = _send(opts, app_, plan, lambda n, total: bar.step(f"Sent {opts.kind}: batch", n, total))
    _report(opts, app_, plan, result)


def _send(opts: ImportOptions, app_: App, plan, on_batch) -> dict:
    if opts.db_url:
        from oncore_cli.core.errors import UsageError
        from oncore_cli.services.imports import send_direct

        org = opts.org or app_.settings.org
        if not org:
            raise UsageError("--db-url needs the organization: pass --org SLUG (or set ONCORE_ORG)")
        return send_direct(opts.db_url, org, plan, opts.dry_run)
    from oncore_cli.services.imports import ImportService

    return ImportService(app_.api, app_.org(opts.org).id).send(plan, opts.dry_run, opts.batch_size, on_batch)


def _counts(counts: dict) -> str:
    return f"{counts.get('created', 0)} created, {counts.get('updated', 0)} updated, " \
           f"{counts.get('unchanged', 0)} unchanged"


def _report(opts: ImportOptions, app_: App, plan, result: dict) -> None:
    from oncore_cli.core.output import Column

    changes = [{"line": plan.lines.get(c["external_ref"]), **c} for c in result.get("changes", [])]
    changes.sort(key=lambda c: c["line"] or 0)
    summary = {opts.kind: result[opts.kind], **({"venues": result["venues"]} if opts.kind == "shows" else {}),
               "dry_run": opts.dry_run, "source": plan.source}
    if opts.dry_run:
        summary["changes"] = changes
    if opts.json or app_.fmt == "json":
        app_.output.with_format(None, True).json(summary)
    elif opts.dry_run and changes:
        app_.output.rows(changes, [Column("line", "Line"), Column("action", "Would be"),
                                   Column("external_ref", "External ref")])
    verb = "Would import" if opts.dry_run else "Imported"
    line = f"{verb} {plan.source}: {opts.kind} {_counts(result[opts.kind])}"
    if opts.kind == "shows":
        line += f"; venues {_counts(result['venues'])}"
    app_.output.message(line + ("." if not opts.dry_run else " (dry run: nothing written)."))
