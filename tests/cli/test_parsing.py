"""Flags become options objects before any work is done (gh's runF): parsing tested without a server."""

from __future__ import annotations

import pytest

from oncore_cli.commands import shows


@pytest.fixture
def captured(monkeypatch):
    seen = {}
    monkeypatch.setattr(shows, "run_create", lambda opts, app: seen.setdefault("create", opts))
    monkeypatch.setattr(shows, "run_export", lambda opts, app: seen.setdefault("export", opts))
    return seen


def test_create_flags(oncore, captured):
    result = oncore("shows", "create", "-d", "2026-05-01", "--venue", "lido", "--doors", "19:00", "--curfew", "01:00",
                    "--capacity", "800", "--org", "acme")
    assert result.exit_code == 0, result
    opts = captured["create"]
    assert (opts.date, opts.venue, opts.status, opts.org, opts.json) == ("2026-05-01", "lido", "hold", "acme", False)
    assert opts.fields.times() == {"load_in_at": None, "doors_at": "19:00", "set_time_at": None, "curfew_at": "01:00"}
    assert opts.fields.values()["capacity"] == 800


def test_export_flags(oncore, captured):
    assert oncore("shows", "export", "-f", "csv", "--from", "today", "-O", "x.csv").exit_code == 0
    opts = captured["export"]
    assert (opts.fmt, opts.output, opts.filters.date_from) == ("csv", "x.csv", "today")
    captured.clear()
    assert oncore("shows", "export", "-f", "pdf").exit_code == 2 and captured == {}


@pytest.mark.parametrize("args", [
    ("shows", "create"),                                   # --date is required
    ("shows", "create", "-d", "2026-05-01", "--capacity", "-1"),
    ("shows", "list", "--limit", "0"),
    ("venues", "create", "A", "--name", "B"),              # two different names
])
def test_bad_flags_are_usage_errors(oncore, args):
    result = oncore(*args)
    # one line, in oncore's own style, pointing at the command's help
    assert result.exit_code == 2 and result.stdout == "", result
    assert result.stderr.startswith("oncore: ") and result.stderr.count("\n") == 1, result
    assert "Usage:" not in result.stderr and "Error:" not in result.stderr
