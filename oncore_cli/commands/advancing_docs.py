"""`advancing docs list|upload|download|remove` and `advancing export --upload`: a session's files in the private
`advancing` bucket, at `<org_id>/<session_id>/<file>` (the bucket's policies admit the org's members and the
session's venue guests). Storage access goes through services/storage.py."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oncore_cli.core.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from oncore_cli.core.context import App

BUCKET = "advancing"
MAX_BYTES = 50 * 1024 * 1024  # the bucket's file_size_limit (supabase/migrations/…_realtime_storage.sql)
PROGRESS_FROM = 1024 * 1024   # files from 1 MiB up get a progress bar
SHEET_NAME = "advance-sheet.pdf"
ACTIONS = ("list", "upload", "download", "remove")


@dataclass
class DocsOptions:
    action: str
    session: str
    names: list[str]
    output: str | None
    org: str | None
    yes: bool
    json: bool


def _storage(app_: App):
    from oncore_cli.services.storage import StorageService

    return StorageService(app_.api)


def folder(session: dict) -> str:
    return f"{session['org_id']}/{session['id']}"


def run_docs(opts: DocsOptions, app_: App) -> None:
    if opts.action not in ACTIONS:
        raise UsageError(f"unknown action {opts.action!r}: use {', '.join(ACTIONS)}")
    wants = {"list": (0, 0), "upload": (1, None), "download": (1, 1), "remove": (1, None)}[opts.action]
    if len(opts.names) < wants[0] or (wants[1] is not None and len(opts.names) > wants[1]):
        what = {"list": "no file names", "upload": "one or more files", "download": "one document name",
                "remove": "one or more document names"}[opts.action]
        raise UsageError(f"docs {opts.action} takes {what}, e.g. oncore advancing docs {opts.action} SESSION"
                         + ("" if opts.action == "list" else " stage-plot.pdf"))
    files = _checked_files(opts.names) if opts.action == "upload" else []  # every file checked before any upload
    from oncore_cli.commands.advancing import _session

    session = _session(app_, opts.session, opts.org)
    {"list": _list, "upload": lambda o, a, s: _upload(files, a, s), "download": _download,
     "remove": _remove}[opts.action](opts, app_, session)


def _list(opts: DocsOptions, app_: App, session: dict) -> None:
    from oncore_cli.core.output import Column

    rows = [{"name": o["name"], "size": (o.get("metadata") or {}).get("size"),
             "mimetype": (o.get("metadata") or {}).get("mimetype"), "updated_at": o.get("updated_at"),
             "path": f"{folder(session)}/{o['name']}"}
            for o in _storage(app_).list(BUCKET, folder(session), limit=1000) if o.get("id")]
    out = app_.output.with_format(None, opts.json)
    out.rows(rows, [Column("name", "Name"), Column("size", "Size", lambda r: _size(r.get("size"))),
                    Column("mimetype", "Type"), Column("updated_at", "Updated", lambda r: (r.get("updated_at") or "")[:16]
                                                       .replace("T", " "))], empty="no documents yet")


def _checked_files(names: list[str]) -> list[Path]:
    files = []
    for name in names:
        path = Path(name).expanduser()
        if not path.is_file():
            raise UsageError(f"{name}: no such file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UsageError(f"{name} is {_size(size)}: documents may be at most {_size(MAX_BYTES)}")
        files.append(path)
    if len({p.name for p in files}) != len(files):
        raise UsageError("two files have the same name: documents are stored by file name")
    return files


def _upload(files: list[Path], app_: App, session: dict) -> None:
    storage = _storage(app_)
    with app_.output.progress() as bar:
        for path in files:
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            size = path.stat().st_size

            def progress(done: int, total: int, name=path.name, big=size >= PROGRESS_FROM) -> None:
                if big:
                    bar.step(f"Uploading {name}", done, total)

            storage.upload(BUCKET, f"{folder(session)}/{path.name}", path, content_type=kind, progress=progress)
            app_.output.message(f"Uploaded {path.name} ({_size(size)}, {kind}).")


def _download(opts: DocsOptions, app_: App, session: dict) -> None:
    import sys

    name = opts.names[0]
    target = opts.output or Path(name).name
    if target == "-":
        sys.stdout.buffer.write(_storage(app_).download(BUCKET, f"{folder(session)}/{name}"))
        sys.stdout.flush()
        return
    _storage(app_).download(BUCKET, f"{folder(session)}/{name}", target)
    app_.output.message(f"Downloaded {name} to {target}.")


def _remove(opts: DocsOptions, app_: App, session: dict) -> None:
    app_.confirm(f"Remove {', '.join(opts.names)} from the session's documents?", yes=opts.yes)
    removed = _storage(app_).remove(BUCKET, [f"{folder(session)}/{name}" for name in opts.names])
    gone = {r.get("name", "").rsplit("/", 1)[-1] for r in removed}
    missing = [name for name in opts.names if name not in gone]
    for name in sorted(gone):
        app_.output.message(f"Removed {name}.")
    if missing:
        raise NotFoundError(f"no document named {', '.join(missing)} (or not yours to remove): "
                            "see oncore advancing docs list")


def upload_sheet(app_: App, sheet: dict, data: bytes, expires_in: int, to_stderr: bool = False) -> str:
    """`export --upload`: the advance sheet at `<org_id>/<session_id>/advance-sheet.pdf` (replacing an older one),
    and a signed URL that works for `expires_in` seconds."""
    session = {"org_id": sheet["organization"]["id"], "id": sheet["session"]["id"]}
    storage = _storage(app_)
    path = f"{folder(session)}/{SHEET_NAME}"
    storage.upload(BUCKET, path, data, content_type="application/pdf", upsert=True)
    url = storage.signed_url(BUCKET, path, expires_in)
    if to_stderr:
        app_.output.message(url)
    else:
        app_.output.raw(url)
    app_.output.message(f"Uploaded {SHEET_NAME} to the session's documents; the link above works until it expires.")
    return url


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
