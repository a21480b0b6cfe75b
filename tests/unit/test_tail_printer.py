"""`oncore tail`'s line: colour only on a terminal and without NO_COLOR; NDJSON fields; the --since grammar."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oncore_cli.commands.tail import Printer, parse_since
from oncore_cli.core.errors import UsageError
from oncore_cli.services.realtime import RealtimeService, table_name

ROW = {"id": 7, "created_at": "2026-12-01T10:00:00+00:00", "actor_kind": "venue_guest", "actor_id": None,
       "entity": "venues", "entity_id": "0a0b0c0d-0000-0000-0000-000000000000", "action": "update",
       "org_id": "o", "session_id": None, "changes": {"name": {"old": "Lido", "new": "Gebäude 9"}}}


def _line(capsys, monkeypatch, *, tty: bool, no_color: bool, as_json: bool = False, source: str = "live") -> str:
    monkeypatch.setenv("TTY_COMPATIBLE", "1" if tty else "0")
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    Printer(as_json).print(dict(ROW), source, RealtimeService(None))
    return capsys.readouterr().out


def test_plain_line_when_piped_or_no_color(capsys, monkeypatch):
    for tty, no_color in ((False, False), (True, True)):
        line = _line(capsys, monkeypatch, tty=tty, no_color=no_color)
        assert "\x1b[" not in line
        assert line.endswith("  venue guest  venues  Gebäude 9  name Lido → Gebäude 9\n")


def test_colour_on_a_terminal(capsys, monkeypatch):
    line = _line(capsys, monkeypatch, tty=True, no_color=False, source="catch-up")
    assert "\x1b[31mLido\x1b[0m" in line and "\x1b[32mGebäude 9\x1b[0m" in line and "[catch-up]" in line


def test_json_line(capsys, monkeypatch):
    line = json.loads(_line(capsys, monkeypatch, tty=True, no_color=False, as_json=True, source="catch-up"))
    assert line["actor"] == "venue guest" and line["table"] == "venues" and line["name"] == "Gebäude 9"
    assert line["catch_up"] is True and line["history"] is False and line["log_id"] == 7


def test_since_and_table_names():
    assert parse_since("10m") == dt.timedelta(minutes=10) and parse_since("2h") == dt.timedelta(hours=2)
    with pytest.raises(UsageError):
        parse_since("soon")
    assert table_name("sessions") == "advancing_sessions" and table_name("Hospitality") == "hospitality"
    with pytest.raises(UsageError):
        table_name("bookings")
