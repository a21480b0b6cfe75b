"""seed FILE|DIR: load a CI fixture (orgs, members, venues, shows, advancing sessions) with the service-role key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oncore_cli.core.cli import JsonOpt, YesOpt
from oncore_cli.core.context import get_app


def seed(ctx: typer.Context,
         path: Annotated[Path, typer.Argument(metavar="FILE|DIR", help="A YAML or JSON fixture, or a folder of them.")],
         reset: Annotated[bool, typer.Option("--reset", help="First delete the fixture's organizations and users "
                                                             "(local stack only).")] = False,
         json: JsonOpt = False, yes: YesOpt = False) -> None:
    """Load a fixture into the project: organizations, members (users created with generated passwords, shown
    once), venues, shows and advancing sessions. Running it again changes nothing.

    Configured from the environment alone: ONCORE_URL and ONCORE_SERVICE_ROLE_KEY (the service-role key is
    needed to create users and organizations on anyone's behalf; ordinary commands never use it). The fixture's
    schema is in the README; supabase/fixtures/demo.yaml is an example.

    \b
    Examples:
      $ eval "$(oncore local start --env)"
      $ ONCORE_SERVICE_ROLE_KEY=$SUPABASE_SERVICE_ROLE_KEY oncore seed supabase/fixtures/demo.yaml
      $ oncore seed fixtures/ --reset --yes --json
    """
    app_ = get_app(ctx)
    from urllib.parse import urlsplit

    from oncore_cli.core.errors import UsageError
    from oncore_cli.services.seed import SeedService, load_fixture

    settings = app_.settings
    if not settings.url or not settings.service_role_key:
        raise UsageError("oncore seed needs ONCORE_URL and ONCORE_SERVICE_ROLE_KEY in the environment "
                         "(oncore local status --env prints them for the local stack)")
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    fixture = load_fixture(path)
    service = SeedService(app_.api)
    if reset:
        host = urlsplit(settings.url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise UsageError(f"--reset deletes data: it works only against the local stack, not {settings.url}")
        app_.confirm("Delete the fixture's organizations and users first?", yes=yes)
        service.reset(fixture)
    with app_.output.status("Seeding…"):
        result = service.seed(fixture)
    out = app_.output
    if json or app_.fmt == "json":
        out.with_format(None, True).json(result.as_dict())
        return
    for org in result.orgs:
        parts = [f"{kind} " + ", ".join(f"{n} {k}" for k, n in org[kind].items())
                 for kind in ("venues", "shows") if kind in org]
        out.message(f"{'Created' if org['created'] else 'Updated'} organization {org['slug']}"
                    + (f": {'; '.join(parts)}" if parts else "") + ".")
    for user in result.users:
        if "password" in user:
            out.raw(f"user\t{user['email']}\tpassword\t{user['password']}")
    for session in result.sessions:
        if session.get("access_code"):
            out.raw(f"session\t{session['org']}\t{session['date']}\t{session['session_id']}\t"
                    f"access code\t{session['access_code']}")
    created = sum(1 for u in result.users if u["created"])
    out.message(f"{created} user{'s' if created != 1 else ''} created"
                + (" (generated passwords above: shown this once)." if any("password" in u for u in result.users)
                   else "."))
