"""signup, login, logout, whoami and `auth token`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from oncore_cli.core.cli import JsonOpt, noun
from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

app = noun("Authentication tokens for scripts.")


# -- login ---------------------------------------------------------------------------------------------------
@dataclass
class LoginOptions:
    email: str | None
    password_stdin: bool
    otp: bool
    url: str | None
    anon_key: str | None
    local: bool


def login(
    ctx: typer.Context,
    email: Annotated[Optional[str], typer.Option("--email", "-e", metavar="EMAIL", help="Account e-mail (prompted if omitted).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    otp: Annotated[bool, typer.Option("--otp", help="Sign in with a one-time code sent by e-mail.")] = False,
    url: Annotated[Optional[str], typer.Option("--url", metavar="URL", help="Project URL, e.g. https://xyz.supabase.co.")] = None,
    anon_key: Annotated[Optional[str], typer.Option("--anon-key", metavar="KEY", help="The project's anon (publishable) key.")] = None,
    local: Annotated[bool, typer.Option("--local", help="Use the running local stack (oncore local start).")] = False,
) -> None:
    """Log in and keep the session in the system keyring (one entry per profile).

    \b
    Examples:
      $ oncore login --local
      $ oncore login --url https://xyz.supabase.co --anon-key eyJ... --email tm@example.com
      $ echo "$PASSWORD" | oncore login --local --email tm@example.com --password-stdin
    """
    if local and (url or anon_key):
        raise typer.BadParameter("--local cannot be combined with --url or --anon-key")
    if otp and password_stdin:
        raise typer.BadParameter("--otp and --password-stdin exclude each other")
    run_login(LoginOptions(email, password_stdin, otp, url, anon_key, local), get_app(ctx))


def _server(opts: LoginOptions, app: App) -> tuple[str, str]:
    from oncore_cli.core.errors import UsageError

    if opts.local:
        from oncore_cli.local.stack import LocalStack

        status = LocalStack(app.home).status()
        if not status.running or status.info is None:
            raise UsageError("the local stack is not running: run oncore local start")
        return status.info.api_url, status.info.anon_key
    url = (opts.url or app.settings.url or "").rstrip("/")
    key = opts.anon_key or app.settings.anon_key
    if opts.url and not opts.anon_key and not key:
        raise UsageError("--url needs --anon-key too: the project's anon key (Supabase dashboard: Project "
                         "Settings, API)")
    if not url or not key:
        from oncore_cli.core.client import missing_setting

        raise UsageError(missing_setting("ONCORE_ANON_KEY", "ONCORE_URL", url) if url else
                         missing_setting("ONCORE_URL", "ONCORE_ANON_KEY", key))
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"bad URL {url!r}: it must start with https:// (or http:// for a local stack)")
    return url, key


def _ask(prompt: str, hide: bool = False) -> str:
    from oncore_cli.core.errors import UsageError

    if not sys.stdin.isatty() and hide:
        raise UsageError("no terminal to ask for the password: pass --password-stdin")
    try:
        return typer.prompt(prompt, hide_input=hide, err=True).strip()
    except typer.Abort:
        raise UsageError(f"no {prompt.lower()} given") from None


def _account(opts: LoginOptions, app: App):
    """The server to talk to (as settings without tokens) and the account's e-mail address."""
    from oncore_cli.core import config as cfg
    from oncore_cli.core.errors import UsageError

    url, key = _server(opts, app)
    settings = cfg.Settings(profile=app.settings.profile, url=url, anon_key=key, org=app.settings.org,
                            access_token=None, service_role_key=None)
    email = opts.email or _ask("E-mail")
    if "@" not in email:
        raise UsageError(f"bad e-mail address {email!r}")
    return settings, email


def run_login(opts: LoginOptions, app: App) -> None:
    from oncore_cli.core.client import Api
    from oncore_cli.core.errors import UsageError

    settings, email = _account(opts, app)
    gotrue = Api(settings, app.credentials).gotrue()
    # The spinner runs only while waiting for the server, never over a prompt.
    if opts.otp:
        with app.output.status("Sending a code"):
            gotrue.sign_in_with_otp({"email": email, "options": {"should_create_user": False}})
        app.output.message(f"A sign-in code was sent to {email}.")
        code = _ask("Code")
        with app.output.status("Signing in"):
            response = gotrue.verify_otp({"email": email, "token": code, "type": "email"})
    else:
        password = sys.stdin.readline().rstrip("\r\n") if opts.password_stdin else _ask("Password", hide=True)
        if not password:
            raise UsageError("empty password")
        with app.output.status("Signing in"):
            response = gotrue.sign_in_with_password({"email": email, "password": password})
    if response.session is None:
        raise UsageError("the server returned no session: confirm your e-mail address, then log in again")
    _keep_session(response.session, settings, email, app)


def _keep_session(payload, settings, email: str, app: App) -> None:
    """Store a new session: only now, with a session in hand, is anything written (the profile, then tokens)."""
    from oncore_cli.core import config as cfg
    from oncore_cli.core.client import session_from_payload

    session = session_from_payload(payload.model_dump(mode="json"))
    url, key = settings.url, settings.anon_key
    config = app.config
    profile = config.profiles.get(settings.profile) or cfg.Profile(settings.profile)
    if profile.url and profile.url != url:
        profile.org = None  # another project: its organizations differ
    profile.url, profile.anon_key = url, key
    config.profiles[settings.profile] = profile
    config.current = config.current or settings.profile  # the first login picks the current profile
    app.credentials.set(settings.profile, session)
    app.save_config()
    app.output.message(f"Logged in to {url} as {session.email or email} (profile {settings.profile}).")
    if config.current != settings.profile:
        app.output.message(f"The current profile is {config.current}: pass --profile {settings.profile} or run "
                           f"oncore profiles use {settings.profile}.")


# -- signup --------------------------------------------------------------------------------------------------
def signup(
    ctx: typer.Context,
    email: Annotated[Optional[str], typer.Option("--email", "-e", metavar="EMAIL", help="Your e-mail (prompted if omitted).")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    url: Annotated[Optional[str], typer.Option("--url", metavar="URL", help="Project URL, e.g. https://xyz.supabase.co.")] = None,
    anon_key: Annotated[Optional[str], typer.Option("--anon-key", metavar="KEY", help="The project's anon (publishable) key.")] = None,
    local: Annotated[bool, typer.Option("--local", help="Use the running local stack (oncore local start).")] = False,
) -> None:
    """Create an account (e-mail and password) and log in. When the project confirms e-mail addresses, open the
    link it sends (on the local stack: oncore local mail), then run oncore login.

    \b
    Examples:
      $ oncore signup --local --email tm@example.com
      $ echo "$PASSWORD" | oncore signup --url https://xyz.supabase.co --anon-key eyJ... -e ci@example.com --password-stdin
    """
    if local and (url or anon_key):
        raise typer.BadParameter("--local cannot be combined with --url or --anon-key")
    run_signup(LoginOptions(email, password_stdin, False, url, anon_key, local), get_app(ctx))


def run_signup(opts: LoginOptions, app: App) -> None:
    from oncore_cli.core.client import Api
    from oncore_cli.core.errors import UsageError

    settings, email = _account(opts, app)
    if opts.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise UsageError("no terminal to ask for the password: pass --password-stdin")
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    if not password:
        raise UsageError("empty password")
    gotrue = Api(settings, app.credentials).gotrue()
    with app.output.status("Creating the account"):
        response = gotrue.sign_up({"email": email, "password": password})
    if response.session is None:
        from oncore_cli.core.errors import _is_local

        where = "oncore local mail" if opts.local or _is_local(settings.url) else "your inbox"
        app.output.message(f"Account created for {email}. Open the confirmation link sent to it ({where}), "
                           f"then run oncore login{' --local' if opts.local else ''} --email {email}.")
        return
    _keep_session(response.session, settings, email, app)


# -- logout -------------------------------------------------------------------------------------------------
def logout(ctx: typer.Context) -> None:
    """Log out: end the session on the server and forget its tokens.

    \b
    Examples:
      $ oncore logout
      $ oncore --profile staging logout
    """
    run_logout(get_app(ctx))


def run_logout(app: App) -> None:
    profile = app.settings.profile
    session = app.credentials.get(profile)
    if session is None:
        app.output.message(f"Not logged in (profile {profile}).")
        return
    try:  # best effort: the local tokens go even when the server cannot be reached
        app.api._send("POST", "/auth/v1/logout", params={"scope": "local"}, token=session.access_token, retry=False)
    except Exception:  # noqa: BLE001
        pass
    app.credentials.delete(profile)
    app.output.message(f"Logged out (profile {profile}).")


# -- whoami -------------------------------------------------------------------------------------------------
def whoami(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Show who you are logged in as, and where.

    \b
    Examples:
      $ oncore whoami
      $ oncore whoami --json | jq -r .email
    """
    app = get_app(ctx)
    run_whoami(app.output.with_format(None, json), app)


def run_whoami(out, app: App) -> None:
    from oncore_cli.core.output import Column

    # The service-role key is a project key, not a user: there is nobody to look up.
    user = {"role": "service_role"} if app.settings.service_role_key else app.api.call("GET", "/auth/v1/user")
    session = app.api.session()
    via = ("ONCORE_SERVICE_ROLE_KEY" if app.settings.service_role_key else
           "ONCORE_ACCESS_TOKEN" if app.settings.access_token else app.credentials.location)
    record = {"profile": app.settings.profile, "url": app.settings.url, "user_id": user.get("id"),
              "email": user.get("email") or None, "role": user.get("role"), "org": app.settings.org,
              "expires_at": _iso(session.expires_at) if session and not app.settings.access_token else None,
              "credentials": via}
    out.item(record, [Column("email", "Email"), Column("user_id", "User"), Column("url", "Server"),
                      Column("profile", "Profile"), Column("org", "Org"), Column("credentials", "Credentials")])


def _iso(ts: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat()


# -- auth token ---------------------------------------------------------------------------------------------
@app.command("token")
def token(ctx: typer.Context) -> None:
    """Print the current access token (refreshed if needed), for scripts.

    \b
    Examples:
      $ curl -H "Authorization: Bearer $(oncore auth token)" ...
    """
    run_token(get_app(ctx))


def run_token(app: App) -> None:
    app.output.raw(app.api.access_token())
