"""oncore api: an authenticated request to any endpoint of the project, like `gh api`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from oncore_cli.core.context import get_app

if TYPE_CHECKING:
    from oncore_cli.core.context import App

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass
class ApiOptions:
    method: str
    path: str
    raw_fields: list[str] = field(default_factory=list)
    typed_fields: list[str] = field(default_factory=list)
    input_file: str | None = None
    headers: list[str] = field(default_factory=list)
    include: bool = False


def api(
    ctx: typer.Context,
    method: Annotated[str, typer.Argument(metavar="METHOD", help="GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.")],
    path: Annotated[str, typer.Argument(metavar="PATH", help="Path on the project, e.g. /rest/v1/shows?select=*.")],
    raw_field: Annotated[Optional[list[str]], typer.Option("--raw-field", "-f", metavar="KEY=VALUE",
                                                           help="A string field (query for GET, JSON body otherwise).")] = None,
    typed_field: Annotated[Optional[list[str]], typer.Option("--field", "-F", metavar="KEY=VALUE",
                                                             help="A typed field: true, false, null, numbers, @file.")] = None,
    input_file: Annotated[Optional[str], typer.Option("--input", metavar="FILE", help="Request body from FILE (- for stdin).")] = None,
    header: Annotated[Optional[list[str]], typer.Option("--header", "-H", metavar="NAME:VALUE", help="Extra request header.")] = None,
    include: Annotated[bool, typer.Option("--include", "-i", help="Print the status line and headers too.")] = False,
) -> None:
    """Make an authenticated request to the project's APIs and print the answer.

    Fields (-f, -F) go to the query string for GET and HEAD, to a JSON body otherwise.
    A 4xx/5xx answer prints its body on stdout, one line on stderr, and exits non-zero.

    \b
    Examples:
      $ oncore api GET '/rest/v1/shows?select=date,status&order=date'
      $ oncore api POST /rest/v1/rpc/create_organization -f name="New Org" -f slug=new-org
      $ oncore api PATCH '/rest/v1/shows?id=eq.7c1e...' -F capacity=1200 -H 'Prefer: return=representation'
    """
    opts = ApiOptions(method.upper(), path, raw_field or [], typed_field or [], input_file, header or [], include)
    if opts.method not in METHODS:
        raise typer.BadParameter(f"{method!r}: use one of {', '.join(METHODS)}", param_hint="METHOD")
    if opts.input_file and (opts.raw_fields or opts.typed_fields) and opts.method not in ("GET", "HEAD"):
        raise typer.BadParameter("--input cannot be combined with body fields (-f/-F)")
    run_api(opts, get_app(ctx))


def _split(item: str, flag: str) -> tuple[str, str]:
    from oncore_cli.core.errors import UsageError

    key, sep, value = item.partition("=")
    if not sep or not key:
        raise UsageError(f"bad {flag} {item!r}: use key=value")
    return key, value


def typed_value(value: str) -> Any:
    """gh's -F: true/false/null, integers and floats as JSON values, @file as the file's text."""
    if value in ("true", "false"):
        return value == "true"
    if value == "null":
        return None
    if value.startswith("@"):
        from pathlib import Path

        from oncore_cli.core.errors import UsageError

        name = value[1:]
        try:
            return _read_input(name) if name == "-" else Path(name).read_text()
        except OSError as e:
            raise UsageError(f"cannot read {name}: {e.strerror}") from None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def _read_input(name: str) -> str:
    import sys

    return sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()


def run_api(opts: ApiOptions, app: App) -> None:
    import json
    import sys

    from oncore_cli.core.errors import UsageError, from_postgrest

    fields: dict[str, Any] = {}
    for item in opts.raw_fields:
        key, value = _split(item, "-f")
        fields[key] = value
    for item in opts.typed_fields:
        key, value = _split(item, "-F")
        fields[key] = typed_value(value)
    headers = {}
    for item in opts.headers:
        name, sep, value = item.partition(":")
        if not sep:
            raise UsageError(f"bad header {item!r}: use 'Name: value'")
        headers[name.strip()] = value.strip()
    path = opts.path if opts.path.startswith("/") else "/" + opts.path
    params = json_body = content = None
    if opts.method in ("GET", "HEAD"):
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()} or None
    elif opts.input_file:
        try:
            content = _read_input(opts.input_file).encode()
        except OSError as e:
            raise UsageError(f"cannot read {opts.input_file}: {e.strerror}") from None
        headers.setdefault("Content-Type", "application/json")
    elif fields:
        json_body = fields
    response = app.api.request(opts.method, path, params=params, json=json_body, content=content, headers=headers)
    out = app.output
    if opts.include:
        sys.stdout.write(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\n")
        for name, value in response.headers.items():
            sys.stdout.write(f"{name}: {value}\n")
        sys.stdout.write("\n")
    body = response.text
    if body:
        if out.is_terminal and "json" in response.headers.get("content-type", ""):
            try:
                body = json.dumps(response.json(), indent=2, ensure_ascii=False)
            except ValueError:
                pass
        out.raw(body)
    if response.status_code >= 400:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        err = from_postgrest(response.status_code, payload)
        err.message = f"{err.message} (HTTP {response.status_code})"
        raise err
