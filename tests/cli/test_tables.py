"""Tables fit the terminal (everyday CLI, item 5): run on a pseudo-terminal 100, 80 and 60 columns wide, dates,
statuses, times and ids stay whole on one line; long names and titles are cut with an ellipsis or left out;
piped output (TSV) is unchanged."""

from __future__ import annotations

import re

import pytest

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_VENUE = "The Extraordinarily Long Named Concert Hall And Ballroom"
LONG_TITLE = "A Festival Whose Name Goes On And On Forever And Ever"


@pytest.fixture
def long_names(oncore, org, unique):
    venue = oncore("venues", "create", f"{LONG_VENUE} {unique}", "--city", "Berlin-Charlottenburg-Wilmersdorf",
                   "--timezone", "Europe/Berlin", "--json").json
    for day, title in (("2027-06-01", LONG_TITLE), ("2027-06-02", "Short")):
        created = oncore("shows", "create", "-d", day, "--venue", venue["id"], "--status", "confirmed",
                         "--doors", "19:00", "--curfew", "01:00", "--title", title)
        assert created.exit_code == 0, created
    return oncore("shows", "list", "--json").json


@pytest.fixture
def as_user(oncore, long_names):
    """The logged-in user's token for subprocesses (their keyring file is another one)."""
    return {"ONCORE_ACCESS_TOKEN": oncore("auth", "token").stdout.strip()}


@pytest.mark.parametrize("width", [100, 80, 60])
def test_shows_list_fits(oncore_tty, long_names, as_user, width):
    result = oncore_tty("shows", "list", width=width, env=as_user)
    assert result.exit_code == 0, result
    lines = [ANSI.sub("", line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 3, result.stdout  # header + one line per show: nothing wrapped
    assert all(len(line.rstrip()) <= width for line in lines), result.stdout
    for show, line in zip(long_names, lines[1:]):
        assert line.startswith(show["date"]) and "confirmed" in line
        assert re.search(r"\b19:00\b", line) and "01:00+1" in line and show["id"][:8] in line
    assert LONG_VENUE not in result.stdout  # too long for any of these widths: cut or left out
    if width >= 80:
        assert "…" in lines[1]  # cut, with an ellipsis


def test_pipes_are_unchanged(oncore_process, long_names, as_user):
    piped = oncore_process("shows", "list", env=as_user).stdout.splitlines()
    assert piped[0].split("\t")[2].startswith(LONG_VENUE) and piped[0].split("\t")[6] == LONG_TITLE


def test_venues_list_fits_60(oncore_tty, long_names, as_user):
    result = oncore_tty("venues", "list", width=60, env=as_user)
    lines = [ANSI.sub("", line) for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 2 and all(len(line.rstrip()) <= 60 for line in lines), result.stdout
    assert "Europe/Berlin" in lines[1]
