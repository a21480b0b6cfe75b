"""The local stack's mail outbox: what GoTrue would send (OTP codes, magic links, recovery mails) lands here as
one JSON file per message, `<data_dir>/mail/<sortable timestamp>-<id>.json`, for `oncore local mail` and tests."""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def mail_dir(data_dir: Path | str) -> Path:
    return Path(data_dir) / "mail"


def write_message(data_dir: Path | str, to: str, subject: str, text: str, kind: str, **extra: Any) -> dict:
    """Write one message atomically (temp file + rename, so readers never see half a file) and return it."""
    now = datetime.now(timezone.utc)
    message_id = secrets.token_hex(8)
    message = {"id": message_id, "to": to, "subject": subject, "text": text, "kind": kind,
               "created_at": now.isoformat().replace("+00:00", "Z"), **extra}
    folder = mail_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{message_id}.json"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # mails carry sign-in codes
    with os.fdopen(fd, "w") as f:
        json.dump(message, f, indent=2, ensure_ascii=False)
    os.replace(tmp, folder / name)
    return message


def list_messages(data_dir: Path | str, to: str | None = None) -> list[dict]:
    """All messages, oldest first and newest last; `to` filters by recipient (case-insensitive)."""
    folder = mail_dir(data_dir)
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.glob("*.json")):
        try:
            message = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # removed or being replaced meanwhile
        if to is None or str(message.get("to", "")).lower() == to.lower():
            messages.append(message)
    return messages


def read_message(data_dir: Path | str, id_prefix: str) -> dict | None:
    """The message whose id starts with `id_prefix`; None when none or several match."""
    found = [m for m in list_messages(data_dir) if str(m.get("id", "")).startswith(id_prefix)]
    return found[0] if len(found) == 1 else None
