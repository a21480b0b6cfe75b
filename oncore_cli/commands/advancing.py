"""advancing create|list|show|status|code|invite|history|delete|set|edit|join|export|docs.

The artist side opens an advance for a show and hands the venue an access code; the venue side joins with it
(`advancing join CODE`, an anonymous guest kept in a profile of its own) and then uses the same show, set, edit and
export commands, limited by RLS to that one session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import FormatOpt, JsonOpt, OrgOpt, YesOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App
    from oncore_cli.services.advancing import AdvancingService

app = noun("Advancing: sessions with the venue, access codes, sections and advance sheets.")
SessionArg = Annotated[str, typer.Argument(
    metavar="SESSION", help="Session id or unique prefix, or the show (id, prefix, DATE or DATE@VENUE) if it has one.")]
ExpiresOpt = Annotated[str, typer.Option("--expires", metavar="DURATION",
                                         help="How long the access code lasts: 30d, 12h, 2w (at most 365d).")]


def _service(app_: App) -> AdvancingService:
    from oncore_cli.services.advancing import AdvancingService

    return AdvancingService(app_.api)


def _org_filter(app_: App, org: str | None) -> str | None:
    """Filter by organization only when one was chosen (flag, env, profile): venue guests belong to none."""
    return app_.org(org).id if (org or app_.settings.org) else None


def _session(app_: App, ref: str, org: str | None = None, with_show: bool = True) -> dict:
    """SESSION among every session the user can read (ids are unique across organizations); --org narrows it."""
    return _service(app_).resolve(ref, org_id=app_.org(org).id if org else None, with_show=with_show)


def _when(value: str | None, tz_name: str | None = None) -> str:
    """An instant as a reader wants it: the venue's zone when known, else this machine's."""
    if not value:
        return ""
    import datetime as dt

    from oncore_cli.services.times import zone

    moment = dt.datetime.fromisoformat(value)
    local = moment.astimezone(zone(tz_name)) if tz_name else moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def list_columns():
    from oncore_cli.core.output import Column

    return [Column("show_date", "Date"), Column("venue_name", "Venue"), Column("city", "City"),
            Column("status", "Status"), Column("title", "Title"),
            Column("code_expires_at", "Code expires", lambda r: _when(r.get("code_expires_at"))),
            Column("id", "Id", lambda r: r["id"][:8])]


# -- create ------------------------------------------------------------------------------------------------------
@dataclass
class CreateOptions:
    show: str
    expires: str
    title: str | None
    org: str | None
    json: bool


@app.command("create")
def create(ctx: typer.Context,
           show: Annotated[str, typer.Argument(metavar="SHOW", help="Show id, prefix, DATE or DATE@VENUE.")],
           expires: ExpiresOpt = "30d",
           title: Annotated[Optional[str], typer.Option("--title", metavar="TEXT", help="A title, e.g. 'Tech advance'.")] = None,
           org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Open an advance for a show and print its access code (shown this once).

    \b
    Examples:
      $ oncore advancing create 2026-05-01
      $ oncore adv create 2026-05-01@columbiahalle --expires 14d --title "Tech advance"
    """
    run_create(CreateOptions(show, expires, title, org, json), get_app(ctx))


def run_create(opts: CreateOptions, app_: App) -> None:
    from oncore_cli.services.advancing import parse_duration
    from oncore_cli.services.shows import ShowService

    interval, length = parse_duration(opts.expires)
    show = find_show(ShowService(app_.api, app_.org(opts.org).id), opts.show)
    created = _service(app_).create(show.id, expires_in=interval, title=opts.title)
    if opts.json or app_.fmt == "json":
        app_.output.with_format(None, True).json(created)
        return
    out = app_.output
    out.raw(created["access_code"])
    out.message(f"Opened advancing session {created['session_id'][:8]} for {show.date} "
                f"{show.venue_name or ''}".rstrip() + ".")
    out.message(f"The access code above is shown only this once. It lasts {_duration_words(length)} "
                f"(until {_when(created['expires_at'])}).")
    out.message(f"The venue joins with: oncore advancing join {created['access_code']}")


def _duration_words(length) -> str:
    seconds = int(length.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return f"{seconds} seconds"


def find_show(shows, ref: str):
    """A show by id, prefix, external ref, date, or DATE@VENUE (venue name or its start)."""
    from oncore_cli.core.errors import NotFoundError, UsageError
    from oncore_cli.services.times import parse_date

    if "@" not in ref:
        return shows.get(ref)
    day, _, venue = ref.partition("@")
    found = [s for s in shows.list(date_from=parse_date(day), date_to=parse_date(day))
             if s.venue_name and s.venue_name.lower().startswith(venue.strip().lower())]
    if not found:
        raise NotFoundError(f"show {ref!r} not found: see oncore shows list")
    if len(found) > 1:
        raise UsageError(f"show {ref!r} is ambiguous: {', '.join(s.venue_name or '' for s in found)}")
    return found[0]


# -- list --------------------------------------------------------------------------------------------------------
@app.command("list")
def list_(ctx: typer.Context,
          show: Annotated[Optional[str], typer.Option("--show", metavar="SHOW", help="Only this show's sessions.")] = None,
          status: Annotated[Optional[str], typer.Option("--status", metavar="STATUS", help="draft, sent, in_progress or confirmed.")] = None,
          org: OrgOpt = None, json: JsonOpt = False, fmt: FormatOpt = None) -> None:
    """List advancing sessions you can see.

    \b
    Examples:
      $ oncore advancing list --status in_progress
      $ oncore adv list --show 2026-05-01 --json
    """
    app_ = get_app(ctx)
    out = app_.output.with_format(fmt, json)
    show_id = None
    if show:
        from oncore_cli.services.shows import ShowService

        show_id = find_show(ShowService(app_.api, app_.org(org).id), show).id
    rows = _service(app_).sessions(org_id=_org_filter(app_, org), show_id=show_id, status=status)
    out.rows(rows, list_columns(), empty="no advancing sessions found")


# -- show --------------------------------------------------------------------------------------------------------
@app.command("show")
def show(ctx: typer.Context, session: SessionArg, org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Show a session: every section with its status and fields, and who changed it last.

    \b
    Examples:
      $ oncore advancing show 2026-05-01
      $ oncore adv show 3f2a --json | jq .hospitality.guest_count
    """
    app_ = get_app(ctx)
    run_show(session, org, app_.output.with_format(None, json), app_)


def run_show(ref: str, org: str | None, out, app_: App) -> None:
    from oncore_cli.services.advancing import last_changes

    service = _service(app_)
    found = _session(app_, ref, org, with_show=False)
    sheet = service.sheet(found["id"])
    changes = last_changes(service.history(found["id"]))
    names = _actor_names(app_, sheet, changes.values())
    for change in changes.values():
        change["by"] = names(change)
    sheet["last_changes"] = changes
    if out.format in ("json", "ndjson"):
        out.item(sheet, [])
        return
    from oncore_cli.core.output import Column
    from oncore_cli.models.advancing import SECTIONS

    tz = sheet.get("timezone")
    venue = sheet.get("venue") or {}
    session = sheet["session"]
    head = {"id": session["id"], "show": " ".join(x for x in (sheet["show"]["date"], venue.get("name"),
                                                                   venue.get("city")) if x),
            "timezone": tz, "status": session["status"], "title": session.get("title"),
            "code": f"expires {_when(session.get('code_expires_at'))}" if session.get("code_expires_at") else ""}
    out.item(head, [Column("id", "Session"), Column("show", "Show"), Column("timezone", "Timezone"),
                    Column("status", "Status"), Column("title", "Title"), Column("code", "Code")])
    rows = []
    for name, model in SECTIONS.items():
        section = sheet.get(name) or {}
        change = changes.get(name) or {}
        filled = [f for f in model.model_fields if f != "status" and section.get(f) not in (None, "", [], {})]
        rows.append({"section": name, "status": section.get("status"),
                     "changed": _when(change.get("at"), tz), "by": change.get("by") or "",
                     "fields": ", ".join(change.get("fields") or []),
                     "filled": ", ".join(f"{f}={_short(section[f])}" for f in filled)})
    out.raw("")
    out.rows(rows, [Column("section", "Section"), Column("status", "Status"), Column("changed", "Last change"),
                    Column("by", "By"), Column("fields", "Changed"), Column("filled", "Values")])


def _short(value, limit: int = 40) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _actor_names(app_: App, sheet: dict, entries):
    """actor id → what a reader recognises: "you", a member's e-mail, or "venue guest"."""
    me = None
    session = app_.api.session()
    if session is not None:
        me = session.user_id
    emails: dict[str, str] = {}
    if any(e.get("actor_kind") == "member" and e.get("actor_id") != me for e in entries):
        from oncore_cli.core.errors import OncoreError

        try:
            rows = app_.api.rpc("list_org_members", {"org_id": sheet["organization"]["id"]}) or []
            emails = {r["user_id"]: r.get("email") for r in rows if r.get("email")}
        except OncoreError:
            pass  # venue guests and viewers may not list members: ids are shown instead

    def name(entry: dict) -> str:
        actor = entry.get("actor_id")
        if actor and actor == me:
            return "you"
        if entry.get("actor_kind") == "venue_guest":
            return "venue guest"
        if entry.get("actor_kind") == "service":
            return "service"
        return emails.get(actor or "") or (actor or "")[:8] or "member"

    return name


# -- status ------------------------------------------------------------------------------------------------------
@app.command("status")
def status(ctx: typer.Context, session: SessionArg,
           new_status: Annotated[str, typer.Argument(metavar="STATUS", help="draft, sent, in_progress or confirmed.")],
           org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Set a session's status (admins).

    \b
    Examples:
      $ oncore advancing status 2026-05-01 sent
      $ oncore adv status 3f2a confirmed
    """
    from oncore_cli.services.advancing import check_session_status

    check_session_status(new_status)
    app_ = get_app(ctx)
    found = _session(app_, session, org)
    updated = _service(app_).set_status(found["id"], new_status)
    app_.output.message(f"Session {found['id'][:8]} is now {updated['status']}.")
    if json or app_.fmt == "json":
        app_.output.with_format(None, True).json(updated)


# -- code rotate -------------------------------------------------------------------------------------------------
@app.command("code")
def code(ctx: typer.Context,
         action: Annotated[str, typer.Argument(metavar="ACTION", help="rotate: a new code; the old one stops working.")],
         session: SessionArg, expires: ExpiresOpt = "30d", org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Access codes: `code rotate SESSION` issues a new code and ends every admission made with the old one.

    \b
    Examples:
      $ oncore advancing code rotate 2026-05-01
      $ oncore adv code rotate 3f2a --expires 7d
    """
    from oncore_cli.core.errors import UsageError
    from oncore_cli.services.advancing import parse_duration

    if action != "rotate":
        raise UsageError(f"unknown action {action!r}: use oncore advancing code rotate SESSION")
    interval, length = parse_duration(expires)
    app_ = get_app(ctx)
    found = _session(app_, session, org)
    rotated = _service(app_).rotate(found["id"], expires_in=interval)
    if json or app_.fmt == "json":
        app_.output.with_format(None, True).json(rotated)
        return
    app_.output.raw(rotated["access_code"])
    app_.output.message(f"New access code for session {found['id'][:8]}, shown only this once; it lasts "
                        f"{_duration_words(length)}. The old code and its guests no longer get in.")
    app_.output.message(f"The venue joins with: oncore advancing join {rotated['access_code']}")


# -- invite -----------------------------------------------------------------------------------------------------
@app.command("invite")
def invite(ctx: typer.Context, session: SessionArg,
           email: Annotated[str, typer.Option("--email", "-e", metavar="ADDRESS", help="The venue contact's e-mail address.")],
           code: Annotated[Optional[str], typer.Option("--code", metavar="CODE", help="The session's access code (printed once by create); without it a new code is issued.")] = None,
           expires: ExpiresOpt = "30d", org: OrgOpt = None, yes: YesOpt = False, json: JsonOpt = False) -> None:
    """E-mail the venue its access code, the show, the venue and how to join (edge function send-email).

    Access codes are stored hashed, so oncore cannot look one up: pass the code that `create` printed, or let
    `invite` issue a new one (the old code and its guests then stop working; it asks first, or take --yes).

    \b
    Examples:
      $ oncore advancing invite 2026-05-01 --email production@venue.example --code ABCD-2345-EFGH
      $ oncore adv invite 3f2a --email production@venue.example --yes
    """
    from oncore_cli.core.errors import UsageError
    from oncore_cli.services.advancing import normalise_code, parse_duration

    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise UsageError(f"--email: {email!r} is not an e-mail address")
    app_ = get_app(ctx)
    found = _session(app_, session, org)
    if code:
        normalise_code(code)  # a malformed code is refused here, before anything is sent
    else:
        interval, _ = parse_duration(expires)
        app_.confirm(f"Issue a new access code for session {found['id'][:8]} (the old code and its guests stop "
                     f"working)?", yes=yes)
        code = _service(app_).rotate(found["id"], expires_in=interval)["access_code"]
    sent = app_.api.invoke("send-email", {"template": "advancing_invite", "session_id": found["id"],
                                          "access_code": code, "to": email})
    app_.output.message(f"Sent the access code for session {found['id'][:8]} to {email}.")
    if json or app_.fmt == "json":
        app_.output.with_format(None, True).json({"session_id": found["id"], "to": email, **(sent or {})})


# -- history -----------------------------------------------------------------------------------------------------
@app.command("history")
def history(ctx: typer.Context, session: SessionArg, org: OrgOpt = None, json: JsonOpt = False,
            fmt: FormatOpt = None) -> None:
    """The session's activity log as a timeline: who changed which fields, from what to what.

    \b
    Examples:
      $ oncore advancing history 2026-05-01
      $ oncore adv history 3f2a --json | jq '.[] | select(.entity == "hospitality")'
    """
    from oncore_cli.core.output import Column

    app_ = get_app(ctx)
    out = app_.output.with_format(fmt, json)
    found = _session(app_, session, org)
    entries = _service(app_).history(found["id"])
    if out.machine:
        out.rows(entries, [])
        return
    names = _actor_names(app_, {"organization": {"id": found["org_id"]}}, entries)
    rows = [{**e, "when": _when(e["created_at"], found.get("timezone")), "by": names(e),
             "what": "; ".join(f"{k}: {_short(v.get('old'), 20)} → {_short(v.get('new'), 30)}"
                               for k, v in (e.get("changes") or {}).items() if _worth_showing(k, v))}
            for e in entries]
    out.rows(rows, [Column("when", "When"), Column("by", "By"), Column("action", "Action"),
                    Column("entity", "On"), Column("what", "Changes")], empty="no activity yet")


def _worth_showing(field: str, change) -> bool:
    """Fields a person reads in a timeline: not ids, stamps or bookkeeping columns."""
    return isinstance(change, dict) and field != "id" and not field.endswith(("_id", "_by")) \
        and field not in ("created_at", "updated_at")


# -- delete ------------------------------------------------------------------------------------------------------
@app.command("delete")
def delete(ctx: typer.Context, session: SessionArg, org: OrgOpt = None, yes: YesOpt = False) -> None:
    """Delete a session, its sections and its access code (admins).

    \b
    Examples:
      $ oncore advancing delete 3f2a --yes
    """
    app_ = get_app(ctx)
    found = _session(app_, session, org)
    app_.confirm(f"Delete the advancing session for {found.get('show_date')} {found.get('venue_name') or ''}"
                 .rstrip() + "?", yes=yes)
    _service(app_).delete(found["id"])
    app_.output.message(f"Deleted advancing session {found['id'][:8]}.")


# -- set ---------------------------------------------------------------------------------------------------------
@app.command("set")
def set_(ctx: typer.Context, session: SessionArg,
         assignments: Annotated[list[str], typer.Argument(
             metavar="SECTION.FIELD=VALUE...", help="Fields to set; list fields take JSON or @file.")],
         org: OrgOpt = None, json: JsonOpt = False) -> None:
    """Set section fields. Every value is checked before anything is sent.

    Objects take JSON, @file, or text (kept as {"summary": …}); SECTION.FIELD.KEY=VALUE sets one key of an
    object. Lists take JSON or @file (JSON or YAML). An empty value clears text and numbers.

    \b
    Examples:
      $ oncore advancing set 2026-05-01 hospitality.guest_count=15 technical.power="3-phase 63A"
      $ oncore adv set 3f2a hospitality.guest_list=@guests.json production.merch.soft_split=20
      $ oncore adv set 3f2a technical.status=submitted
    """
    app_ = get_app(ctx)
    run_set(session, assignments, org, json, app_)


def run_set(ref: str, assignments: list[str], org: str | None, json: bool, app_: App) -> None:
    from oncore_cli.models.advancing import parse_assignments

    needs_current = any(len(a.partition("=")[0].split(".")) > 2 for a in assignments)
    parse_assignments(assignments)  # checked before any request: a typo costs nothing
    service = _service(app_)
    found = _session(app_, ref, org)
    current = service.sheet(found["id"]) if needs_current else None
    changes = parse_assignments(assignments, current)
    results = {}
    for section, data in changes.items():
        results[section] = service.submit(section, found["id"], data)
        app_.output.message(f"Set {', '.join(f'{section}.{k}' for k in data)} on session {found['id'][:8]}.")
    if json or app_.fmt == "json":
        app_.output.with_format(None, True).json(results)


# -- edit --------------------------------------------------------------------------------------------------------
@app.command("edit")
def edit(ctx: typer.Context, session: SessionArg,
         section: Annotated[str, typer.Argument(metavar="SECTION", help="hospitality, technical or production.")],
         org: OrgOpt = None) -> None:
    """Edit a section in $VISUAL or $EDITOR as YAML; only changed fields are sent.

    Invalid input reopens the editor with the error at the top; quitting without saving changes nothing.

    \b
    Examples:
      $ oncore advancing edit 2026-05-01 hospitality
      $ EDITOR=nano oncore adv edit 3f2a technical
    """
    from oncore_cli.commands.advancing_edit import run_edit

    run_edit(session, section, org, get_app(ctx))


# -- join --------------------------------------------------------------------------------------------------------
@app.command("join")
def join(ctx: typer.Context,
         access_code: Annotated[str, typer.Argument(metavar="CODE", help="The access code the tour sent, e.g. ABCD-EFGH-JKMN.")],
         url: Annotated[Optional[str], typer.Option("--url", metavar="URL", help="Project URL (default: the current profile's).")] = None,
         anon_key: Annotated[Optional[str], typer.Option("--anon-key", metavar="KEY", help="The project's anon key.")] = None,
         local: Annotated[bool, typer.Option("--local", help="Use the running local stack.")] = False,
         json: JsonOpt = False) -> None:
    """Venue side: join an advance with its access code, as a guest without an account.

    The guest session is kept in its own profile (--profile NAME, else venue-<code prefix>), so the tour's login
    stays as it is. Exit codes: 2 not an access code · 3 wrong code · 4 expired · 5 replaced by a newer code ·
    1 too many attempts (wait a minute).

    \b
    Examples:
      $ oncore advancing join ABCD-EFGH-JKMN --url https://xyz.supabase.co --anon-key eyJ...
      $ oncore --profile venue-lido adv join abcd efgh jkmn
      $ oncore --profile venue-abcd adv set 2026-05-01 hospitality.guest_count=15
    """
    from oncore_cli.commands.advancing_join import JoinOptions, run_join

    run_join(JoinOptions(access_code, url, anon_key, local, json), get_app(ctx))


# -- export ------------------------------------------------------------------------------------------------------
@app.command("export")
def export(ctx: typer.Context, session: SessionArg,
           pdf: Annotated[Optional[str], typer.Option("--pdf", metavar="FILE", help="Write the advance sheet PDF to FILE (- for stdout).")] = None,
           upload: Annotated[bool, typer.Option("--upload", help="Also store it with the session's documents and print a signed URL.")] = False,
           server: Annotated[bool, typer.Option("--server", help="Render it on the server (edge function generate-advancing-pdf), store it with the session's documents and print a signed URL.")] = False,
           expires: Annotated[str, typer.Option("--expires", metavar="DURATION", help="How long the signed URL works (with --upload or --server; at most 7d).")] = "7d",
           org: OrgOpt = None) -> None:
    """Export the advance sheet as a PDF (times local to the venue).

    \b
    Examples:
      $ oncore advancing export 2026-05-01 --pdf advance.pdf
      $ oncore adv export 3f2a --pdf - | lp
      $ oncore adv export 3f2a --pdf advance.pdf --upload --expires 7d
      $ oncore adv export 3f2a --server
    """
    from oncore_cli.core.errors import UsageError
    from oncore_cli.services.advancing import parse_duration

    if server and (pdf or upload):
        raise UsageError("--server renders and stores the PDF on the server: leave out --pdf and --upload")
    if not (server or pdf):
        raise UsageError("say where the PDF goes: --pdf FILE (- for stdout), or --server")
    app_ = get_app(ctx)
    _, length = parse_duration(expires) if (upload or server) else (None, None)
    found = _session(app_, session, org)
    if server:
        seconds = int(length.total_seconds())
        if seconds > 7 * 86400:
            raise UsageError("--expires: a signed URL from the server lasts at most 7d")
        made = app_.api.invoke("generate-advancing-pdf", {"session_id": found["id"], "expires_in": seconds})
        app_.output.raw(made["signed_url"])
        app_.output.message(f"Rendered on the server and stored at {made['path']}; the link above works for "
                            f"{_duration_words(length)}.")
        return
    sheet = _service(app_).sheet(found["id"])
    from oncore_cli.pdf import render_advance_sheet

    data = render_advance_sheet(sheet)
    write_output(pdf, data, app_)
    if upload:
        from oncore_cli.commands.advancing_docs import upload_sheet

        upload_sheet(app_, sheet, data, int(length.total_seconds()), to_stderr=pdf == "-")


def write_output(target: str, data: bytes, app_: App) -> None:
    """PDF bytes to a file (written whole or not at all) or to stdout for `-`."""
    import sys

    if target == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from pathlib import Path

    path = Path(target)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        from oncore_cli.core.errors import UsageError

        raise UsageError(f"cannot write {target}: {e.strerror or e}") from None
    app_.output.message(f"Wrote {target} ({len(data) // 1024 or 1} KiB).")


# -- docs --------------------------------------------------------------------------------------------------------
@app.command("docs")
def docs(ctx: typer.Context,
         action: Annotated[str, typer.Argument(metavar="ACTION", help="list, upload, download or remove.")],
         session: SessionArg,
         names: Annotated[Optional[list[str]], typer.Argument(metavar="[FILE|NAME]...", help="Files to upload, or a document's name.")] = None,
         output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FILE", help="download: where to write (- for stdout).")] = None,
         org: OrgOpt = None, yes: YesOpt = False, json: JsonOpt = False) -> None:
    """A session's documents (riders, stage plots, input lists) in the private `advancing` bucket.

    \b
    Examples:
      $ oncore advancing docs list 2026-05-01
      $ oncore adv docs upload 3f2a stage-plot.pdf input-list.xlsx
      $ oncore adv docs download 3f2a stage-plot.pdf -o plot.pdf
      $ oncore adv docs remove 3f2a input-list.xlsx --yes
    """
    from oncore_cli.commands.advancing_docs import DocsOptions, run_docs

    run_docs(DocsOptions(action, session, names or [], output, org, yes, json), get_app(ctx))
