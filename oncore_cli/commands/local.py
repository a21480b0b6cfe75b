"""local start|stop|status|reset|logs|mail: the Docker-free, Supabase-compatible local stack."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from oncore_cli.core.cli import JsonOpt, YesOpt, noun
from oncore_cli.core.context import get_app

app = noun("The local stack: embedded PostgreSQL plus a Supabase-compatible API on 127.0.0.1.")

PortOpt = Annotated[Optional[int], typer.Option(
    "--port", help="API port (0 for any free port; env: ONCORE_LOCAL_PORT).  [default: 54321]")]
DbPortOpt = Annotated[Optional[int], typer.Option(
    "--db-port", help="PostgreSQL port (0 for any free port; env: ONCORE_LOCAL_DB_PORT).  [default: 54322]")]


def _port(flag: int | None, name: str, default: int) -> int:
    """The flag, else the environment variable `name`, else the default."""
    from oncore_cli.core import config
    from oncore_cli.core.errors import UsageError

    if flag is not None:
        return flag
    value = config.env(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) > 65535:
        raise UsageError(f"{name}={value!r} is not a port: use a number from 0 (any free port) to 65535")
    return int(value)


def _stack(app_):
    from oncore_cli.local.stack import LocalStack

    return LocalStack(app_.home)


EnvOpt = Annotated[bool, typer.Option(
    "--env", help="Print shell `export` lines (ONCORE_URL, ONCORE_ANON_KEY, SUPABASE_URL, ...) for eval.")]


def _env_lines(info) -> str:
    import shlex

    values = {"ONCORE_URL": info.api_url, "ONCORE_ANON_KEY": info.anon_key, "SUPABASE_URL": info.api_url,
              "SUPABASE_ANON_KEY": info.anon_key, "SUPABASE_SERVICE_ROLE_KEY": info.service_role_key,
              "SUPABASE_DB_URL": info.db_url, "SUPABASE_JWT_SECRET": info.jwt_secret}
    return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in values.items())


def _print_info(app_, info, json: bool, title: str, env: bool = False) -> None:
    out = app_.output
    if json:
        out.json(info.as_dict())
        return
    if env:
        out.raw(_env_lines(info))
        return
    out.message(title)
    rows = [("API URL", info.api_url), ("DB URL", info.db_url), ("anon key", info.anon_key),
            ("service_role key", info.service_role_key), ("JWT secret", info.jwt_secret)]
    width = max(len(label) for label, _ in rows)
    out.raw("\n".join(f"{label:>{width}}: {value}" for label, value in rows))


def _stack_errors():
    """StackError / PostgresError become one line with exit code 1."""
    import contextlib

    from oncore_cli.core.errors import OncoreError

    @contextlib.contextmanager
    def wrap():
        from oncore_cli.local.postgres import PostgresError
        from oncore_cli.local.stack import StackError

        try:
            yield
        except (StackError, PostgresError) as e:
            raise OncoreError(str(e)) from e

    return wrap()


@app.command("start")
def start(ctx: typer.Context, port: PortOpt = None, db_port: DbPortOpt = None,
          demo: Annotated[bool, typer.Option("--demo", help="Load demo data (an org, venues, a tour of shows, an "
                                                            "advancing session) and log in as the demo user.")] = False,
          json: JsonOpt = False, env: EnvOpt = False) -> None:
    """Start the local stack (a no-op that prints the status when it is running).

    Data lives in $ONCORE_HOME/local/. Keys are created once per data directory.

    \b
    Examples:
      $ oncore local start
      $ oncore local start --demo
      $ oncore local start --port 0 --db-port 0 --json | jq -r .anon_key
      $ eval "$(oncore local start --env)"
    """
    from oncore_cli.core.config import ENV_LOCAL_DB_PORT, ENV_LOCAL_PORT
    from oncore_cli.local.stack import DEFAULT_DB_PORT, DEFAULT_PORT

    app_ = get_app(ctx)
    port = _port(port, ENV_LOCAL_PORT, DEFAULT_PORT)
    db_port = _port(db_port, ENV_LOCAL_DB_PORT, DEFAULT_DB_PORT)
    stack = _stack(app_)
    with _stack_errors(), app_.output.status("Starting the local stack…") as status:
        def step(message: str) -> None:
            if status is not None:
                status.update(message + "…")

        info, started = stack.start(port=port, db_port=db_port, on_step=step)
    if not json:
        _print_info(app_, info, False, "Started the local stack." if started else "The local stack is already running.",
                    env=env)
    demo_result = None
    if demo:
        from oncore_cli.local.demo import load_demo

        demo_result = load_demo(app_, info)
        if not json:
            demo_result.print_next_steps(app_.output)
    if json:
        app_.output.json({**info.as_dict(), **({"demo": demo_result.as_dict()} if demo_result else {})})


@app.command("stop")
def stop(ctx: typer.Context) -> None:
    """Stop the gateway and PostgreSQL. Data is kept; `oncore local start` brings it back.

    \b
    Examples:
      $ oncore local stop
    """
    app_ = get_app(ctx)
    with _stack_errors():
        stopped = _stack(app_).stop()
    app_.output.message("Stopped the local stack." if stopped else "The local stack is not running.")


@app.command("status")
def status(ctx: typer.Context, json: JsonOpt = False, env: EnvOpt = False) -> None:
    """Show whether the local stack runs, with its URLs and keys. Exit code 1 when it is not running.

    \b
    Examples:
      $ oncore local status
      $ oncore local status --json | jq -r .api_url
      $ eval "$(oncore local status --env)"
    """
    app_ = get_app(ctx)
    state = _stack(app_).status()
    if json:
        payload = {"running": state.running, "postgres": state.postgres, "gateway": state.gateway}
        if state.info:
            payload.update(state.info.as_dict())
        app_.output.json(payload)
    elif state.info:
        _print_info(app_, state.info, False, "The local stack is running.", env=env)
    else:
        app_.output.message(f"The local stack is not running (PostgreSQL: {state.postgres}, gateway: {state.gateway})."
                            " Start it with: oncore local start")
    if not state.running:
        raise typer.Exit(1)


@app.command("reset")
def reset(ctx: typer.Context, yes: YesOpt = False, json: JsonOpt = False) -> None:
    """Delete the local database and start fresh: migrations and supabase/seed.sql are applied again.

    Keys and ports are kept, so configured clients keep working.

    \b
    Examples:
      $ oncore local reset --yes
    """
    app_ = get_app(ctx)
    app_.confirm("Delete every row in the local database and start fresh?", yes=yes)
    with _stack_errors(), app_.output.status("Resetting the local stack…"):
        info = _stack(app_).reset()
    _print_info(app_, info, json, "Reset the local stack.")


@app.command("logs")
def logs(ctx: typer.Context,
         follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
         service: Annotated[str, typer.Option("--service", "-s", help="gateway, postgres, functions or all.")] = "all",
         lines: Annotated[int, typer.Option("--lines", "-n", help="How many lines to show first.")] = 50) -> None:
    """Show the local stack's logs ($ONCORE_HOME/local/logs/).

    \b
    Examples:
      $ oncore local logs -n 100
      $ oncore local logs -f --service gateway
    """
    from oncore_cli.core.errors import UsageError

    app_ = get_app(ctx)
    names = {"gateway": ["gateway"], "postgres": ["postgres"], "functions": ["functions"],
             "all": ["postgres", "gateway", "functions"]}.get(service)
    if names is None:
        raise UsageError(f"unknown service {service!r}: use gateway, postgres, functions or all")
    stack = _stack(app_)
    files = [stack.logs / f"{name}.log" for name in names]
    prefix = len(files) > 1
    for path in files:
        if path.is_file():
            for line in path.read_text(errors="replace").splitlines()[-lines:] if lines > 0 else []:
                app_.output.raw(f"{path.stem} | {line}" if prefix else line)
    if not follow:
        return
    import time

    handles = {path: open(path, errors="replace") if path.is_file() else None for path in files}
    for handle in handles.values():
        if handle:
            handle.seek(0, 2)
    try:
        while True:
            for path, handle in handles.items():
                if handle is None and path.is_file():
                    handles[path] = handle = open(path, errors="replace")
                for line in handle.readlines() if handle else []:
                    app_.output.raw(f"{path.stem} | {line.rstrip()}" if prefix else line.rstrip())
            time.sleep(0.25)
    except KeyboardInterrupt:
        pass


@app.command("mail")
def mail(ctx: typer.Context,
         to: Annotated[Optional[str], typer.Option("--to", help="Only mail sent to this address.")] = None,
         last: Annotated[bool, typer.Option("--last", help="Print the newest message in full.")] = False,
         json: JsonOpt = False) -> None:
    """List the local outbox: sign-up, one-time code and magic-link mails the local stack "sent".

    \b
    Examples:
      $ oncore local mail
      $ oncore local mail --to tm@example.com --last
    """
    from oncore_cli.core.output import Column
    from oncore_cli.local.mail import list_messages

    app_ = get_app(ctx)
    messages = list_messages(_stack(app_).root, to=to)
    out = app_.output.with_format(None, json)
    if last:
        if not messages:
            from oncore_cli.core.errors import NotFoundError

            raise NotFoundError("the outbox is empty" + (f" for {to}" if to else ""))
        message = messages[-1]
        if json:
            out.json(message)
        else:
            out.raw(f"To: {message.get('to')}\nSubject: {message.get('subject')}\nDate: {message.get('created_at')}\n\n"
                    f"{message.get('text', '')}")
        return
    columns = [Column("created_at", "Date"), Column("to", "To", flex=True), Column("subject", "Subject", flex=True, drop=1),
               Column("otp", "Code"), Column("kind", "Kind")]
    out.rows(messages, columns, empty="the outbox is empty")


secrets_app = noun("Secrets for the local stack's edge functions (environment variables, as `supabase secrets`).")
app.add_typer(secrets_app, name="secrets")


def _secret_errors():
    import contextlib

    @contextlib.contextmanager
    def wrap():
        from oncore_cli.core.errors import UsageError
        from oncore_cli.local.functions import SecretError

        try:
            yield
        except SecretError as e:
            raise UsageError(str(e)) from e

    return wrap()


@secrets_app.command("set")
def secrets_set(ctx: typer.Context,
                assignments: Annotated[list[str], typer.Argument(metavar="NAME=VALUE...",
                                                                 help="One or more secrets.")]) -> None:
    """Set secrets for the local stack's edge functions; running functions restart with them.

    Names starting with SUPABASE_ are refused: the stack sets those itself. Values are stored in
    $ONCORE_HOME/local/function-secrets.json, readable only by you.

    \b
    Examples:
      $ oncore local secrets set STRIPE_WEBHOOK_SECRET=whsec_...
      $ oncore local secrets set RESEND_API_KEY="$(cat resend.key)"
    """
    from oncore_cli.local.functions import parse_assignment, read_secrets, write_secrets

    app_ = get_app(ctx)
    with _secret_errors():
        pairs = [parse_assignment(a) for a in assignments]  # all checked before anything is written
    root = _stack(app_).root
    values = read_secrets(root)
    values.update(pairs)
    write_secrets(root, values)
    app_.output.message(f"Set {', '.join(name for name, _ in pairs)}.")


@secrets_app.command("list")
def secrets_list(ctx: typer.Context,
                 reveal: Annotated[bool, typer.Option("--reveal", help="Show the values, not their digests.")] = False,
                 json: JsonOpt = False) -> None:
    """List the local functions' secrets: names and SHA-256 digests (values only with --reveal).

    \b
    Examples:
      $ oncore local secrets list
      $ oncore local secrets list --json
    """
    from oncore_cli.core.output import Column
    from oncore_cli.local.functions import digest, read_secrets

    app_ = get_app(ctx)
    rows = [{"name": name, "digest": digest(value), **({"value": value} if reveal else {})}
            for name, value in sorted(read_secrets(_stack(app_).root).items())]
    columns = [Column("name", "Name"), Column("value" if reveal else "digest", "Value" if reveal else "Digest")]
    app_.output.with_format(None, json).rows(rows, columns, empty="no secrets set")


@secrets_app.command("unset")
def secrets_unset(ctx: typer.Context,
                  names: Annotated[list[str], typer.Argument(metavar="NAME...", help="Secrets to remove.")]) -> None:
    """Remove secrets from the local stack's edge functions.

    \b
    Examples:
      $ oncore local secrets unset RESEND_API_KEY
    """
    from oncore_cli.core.errors import NotFoundError
    from oncore_cli.local.functions import read_secrets, write_secrets

    app_ = get_app(ctx)
    root = _stack(app_).root
    values = read_secrets(root)
    missing = [name for name in names if name not in values]
    if missing:
        raise NotFoundError(f"no secret named {', '.join(missing)}")
    for name in names:
        del values[name]
    write_secrets(root, values)
    app_.output.message(f"Unset {', '.join(names)}.")
