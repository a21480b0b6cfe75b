"""oncore tail: follow changes as they are committed, one line each (NDJSON with --json)."""

from __future__ import annotations

import datetime as dt
import json as jsonlib
import re
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import JsonOpt, OrgOpt
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App
    from oncore_cli.services.realtime import RealtimeService, Scope

BACKOFF_SECONDS = (0.5, 1, 2, 4, 8, 10)
# rows committed this long before a (re)subscription are looked up again; ids already shown are skipped
CATCH_UP_MARGIN = dt.timedelta(seconds=5)
_SEEN_LIMIT = 100_000
_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class TailOptions:
    tables: list[str] = field(default_factory=list)
    org: str | None = None
    show: str | None = None
    session: str | None = None
    json: bool = False
    since: str | None = None


def tail(
    ctx: typer.Context,
    tables: Annotated[Optional[list[str]], typer.Argument(
        metavar="TABLE", help="Only these tables: shows, venues, sessions, hospitality, technical, production, "
                                  "members, organizations, guests.")] = None,
    org: OrgOpt = None,
    show: Annotated[Optional[str], typer.Option("--show", metavar="SHOW",
                                                help="Only this show and its advancing (id, prefix or date).")] = None,
    session: Annotated[Optional[str], typer.Option("--session", metavar="SESSION",
                                                   help="Only this advancing session (its id).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", metavar="AGE",
                                                 help="Replay history first, e.g. 10m, 2h, 1d.")] = None,
    json: JsonOpt = False,
) -> None:
    """Follow changes as they land: time, who, table, the row's name and each changed field old → new.

    Reconnects on its own and catches up on what happened while it was away (lines marked catch-up).
    Ctrl-C stops it. Works for a venue guest's profile too (their session's changes only).

    \b
    Examples:
      $ oncore tail
      $ oncore tail hospitality technical --show 2027-03-14
      $ oncore tail --since 1h --json | jq -c '{who: .actor, table, changes}'
    """
    app_ = get_app(ctx)
    run_tail(TailOptions(tables or [], org, show, session, json or app_.fmt == "json", since), app_)


def parse_since(text: str) -> dt.timedelta:
    from oncore_cli.core.errors import UsageError

    match = _SINCE.match(text.strip().lower())
    if not match:
        raise UsageError(f"--since {text!r}: use a number and a unit, e.g. 30s, 10m, 2h, 1d")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def run_tail(opts: TailOptions, app_: App) -> None:
    import asyncio

    from oncore_cli.services.realtime import RealtimeService, table_name

    tables = {table_name(t) for t in opts.tables}
    since = parse_since(opts.since) if opts.since else None
    service = RealtimeService(app_.api)
    scope, show_filter = _scope(opts, app_)
    follower = Follower(service, scope, tables, show_filter, Printer(opts.json), app_)
    try:
        asyncio.run(follower.run(since))
    except KeyboardInterrupt:
        pass   # Ctrl-C: the expected way out


def _scope(opts: TailOptions, app_: App) -> tuple[Scope, ShowFilter | None]:
    from oncore_cli.core.errors import NotFoundError, UsageError
    from oncore_cli.services.lookup import is_uuid
    from oncore_cli.services.realtime import Scope

    if opts.session:
        if not is_uuid(opts.session):
            raise UsageError(f"--session {opts.session!r}: give the session's id (a UUID)")
        rows = app_.api.select("advancing_sessions", {"select": "id", "id": f"eq.{opts.session}"})
        if not rows:
            raise NotFoundError(f"no advancing session {opts.session} (or you may not see it)")
        return Scope(session_id=opts.session), None
    if opts.show:
        from oncore_cli.services.shows import ShowService

        org = app_.org(opts.org)
        show = ShowService(app_.api, org.id).get(opts.show)
        sessions = app_.api.select("advancing_sessions", {"select": "id", "show_id": f"eq.{show.id}"})
        return Scope(org_id=org.id), ShowFilter(show.id, {r["id"] for r in sessions})
    try:
        return Scope(org_id=app_.org(opts.org).id), None
    except UsageError:
        if opts.org or app_.settings.org:
            raise
        return Scope(), None   # no organization (a venue guest): everything RLS lets this user read


@dataclass
class ShowFilter:
    show_id: str
    sessions: set[str]

    def admits(self, row: dict) -> bool:
        if row.get("entity") == "shows" and row.get("entity_id") == self.show_id:
            return True
        if row.get("entity") == "advancing_sessions":
            show = (row.get("changes") or {}).get("show_id") or {}
            if self.show_id in (show.get("new"), show.get("old")):
                self.sessions.add(row.get("entity_id"))
        return row.get("session_id") in self.sessions


class Follower:
    def __init__(self, service: RealtimeService, scope: Scope, tables: set[str], show_filter: ShowFilter | None,
                 printer: Printer, app_: App) -> None:
        self.service, self.scope, self.tables, self.show_filter = service, scope, tables, show_filter
        self.printer, self.app = printer, app_
        self.seen: OrderedDict[int, None] = OrderedDict()
        self.last_seen_at: dt.datetime | None = None

    async def run(self, since: dt.timedelta | None) -> None:
        import asyncio

        from oncore_cli.services.realtime import Disconnected

        origin = dt.datetime.now(dt.timezone.utc) - (since or dt.timedelta(0))   # what this tail covers
        attempt = 0
        first = True
        subscribed = False

        async def on_subscribed() -> list[dict]:
            nonlocal attempt, subscribed
            subscribed = True
            if first:
                self.app.output.message("Watching for changes (Ctrl-C to stop).")
                return [dict(row, _source="history") for row in await self._history(origin)] if since else []
            self.app.output.message("oncore: reconnected; catching up")
            attempt = 0
            base = max(origin, (self.last_seen_at or origin) - CATCH_UP_MARGIN)
            return [dict(row, _source="catch-up") for row in await self._history(base)]

        while True:
            try:
                async for row in self.service.activity(self.scope, on_subscribed):
                    self._emit(row)
                return
            except Disconnected as e:
                if not subscribed:   # never got in: nothing to follow yet, say so rather than retry forever
                    from oncore_cli.core.errors import ConnectionFailed

                    raise ConnectionFailed(self.service.api.url) from None
                first = False
                delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
                attempt += 1
                self.app.output.message(f"oncore: realtime connection lost ({e}); reconnecting in {delay:g}s")
                await asyncio.sleep(delay)

    async def _history(self, since: dt.datetime) -> list[dict]:
        import asyncio

        return await asyncio.to_thread(self.service.history, self.scope, since.isoformat())

    def _remember(self, row: dict) -> bool:
        """False when this row was shown already."""
        log_id = row.get("id")
        if log_id in self.seen:
            return False
        self.seen[log_id] = None
        if len(self.seen) > _SEEN_LIMIT:
            self.seen.popitem(last=False)
        created = _parse_ts(row.get("created_at"))
        if created and (self.last_seen_at is None or created > self.last_seen_at):
            self.last_seen_at = created
        return True

    def _emit(self, row: dict) -> None:
        source = row.pop("_source", "live")
        if not self._remember(row):
            return
        if self.tables and row.get("entity") not in self.tables:
            return
        if self.show_filter and not self.show_filter.admits(row):
            return
        self.printer.print(row, source, self.service)


def _parse_ts(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class Printer:
    COLOURS = {"time": "2", "who": "36", "table": "35", "name": "1", "old": "31", "new": "32", "mark": "33"}

    def __init__(self, as_json: bool) -> None:
        import os

        from oncore_cli.core.output import stdout_is_terminal

        self.as_json = as_json
        self.colour = not as_json and stdout_is_terminal() and not os.environ.get("NO_COLOR")

    def _c(self, kind: str, text: str) -> str:
        return f"\x1b[{self.COLOURS[kind]}m{text}\x1b[0m" if self.colour else text

    def print(self, row: dict, source: str, service: RealtimeService) -> None:
        who, name = service.person(row), service.name(row)
        changes = row.get("changes") or {}
        if self.as_json:
            line = jsonlib.dumps({"time": row.get("created_at"), "actor": who, "actor_id": row.get("actor_id"),
                                  "actor_kind": row.get("actor_kind"), "table": row.get("entity"),
                                  "id": row.get("entity_id"), "name": name, "action": row.get("action"),
                                  "changes": changes, "org_id": row.get("org_id"),
                                  "session_id": row.get("session_id"), "log_id": row.get("id"),
                                  "catch_up": source == "catch-up", "history": source == "history"},
                                 ensure_ascii=False)
        else:
            created = _parse_ts(row.get("created_at"))
            stamp = created.astimezone().strftime("%H:%M:%S") if created else "--:--:--"
            parts = [self._c("time", stamp)]
            if source != "live":
                parts.append(self._c("mark", f"[{source}]"))
            parts += [self._c("who", who), self._c("table", row.get("entity") or ""), self._c("name", name)]
            action = row.get("action") or ""
            if action not in ("update",):
                parts.append(action)
            fields = [f"{key} {self._c('old', _show(value.get('old')))} → {self._c('new', _show(value.get('new')))}"
                      for key, value in changes.items() if isinstance(value, dict)]
            line = "  ".join(parts) + ("  " + "; ".join(fields) if fields else "")
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:57] + "..."
    text = jsonlib.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
