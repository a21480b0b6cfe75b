"""`oncore local …` as a user runs it: its own stack in the test's ONCORE_HOME (not the shared per-run stack),
driven in-process and as a real subprocess; the demo tour logs the CLI in and every next step it prints works."""

from __future__ import annotations

import json
import shlex

import httpx
import pytest


@pytest.fixture
def own_stack(oncore, home):
    """Start a stack in this test's ONCORE_HOME; always stopped afterwards."""
    result = oncore("local", "start", "--port", "0", "--db-port", "0", "--json")
    assert result.exit_code == 0, result
    yield result.json
    oncore("local", "stop")


def test_start_json_status_and_stop(oncore, own_stack):
    info = own_stack
    for key in ("api_url", "db_url", "anon_key", "service_role_key", "jwt_secret"):
        assert info[key], key
    health = httpx.get(f"{info['api_url']}/auth/v1/health", headers={"apikey": info["anon_key"]})
    assert health.status_code == 200

    again = oncore("local", "start", "--port", "0", "--db-port", "0")
    assert again.exit_code == 0
    assert "already running" in again.stderr
    assert info["api_url"] in again.stdout

    status = oncore("local", "status", "--json")
    assert status.exit_code == 0 and status.json["running"] is True
    assert status.json["api_url"] == info["api_url"]

    env = oncore("local", "status", "--env")
    exported = dict(line.removeprefix("export ").split("=", 1) for line in env.stdout.splitlines())
    assert shlex.split(exported["ONCORE_URL"]) == [info["api_url"]]
    assert shlex.split(exported["SUPABASE_ANON_KEY"]) == [info["anon_key"]]

    stopped = oncore("local", "stop")
    assert stopped.exit_code == 0 and "Stopped" in stopped.stderr
    after = oncore("local", "status", "--json")
    assert after.exit_code == 1 and after.json["running"] is False
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{info['api_url']}/auth/v1/health", headers={"apikey": info["anon_key"]})


def test_reset_needs_yes_without_a_terminal(oncore, own_stack):
    refused = oncore("local", "reset")
    assert refused.exit_code == 2
    assert "--yes" in refused.stderr and "Traceback" not in refused.stderr
    done = oncore("local", "reset", "--yes", "--json")
    assert done.exit_code == 0, done
    assert done.json["anon_key"] == own_stack["anon_key"]


def test_logs_and_mail(oncore, own_stack):
    info = own_stack
    email = "mailbox@example.com"
    sent = httpx.post(f"{info['api_url']}/auth/v1/otp", json={"email": email, "create_user": True},
                      headers={"apikey": info["anon_key"]})
    assert sent.status_code == 200, sent.text
    listed = oncore("local", "mail", "--to", email, "--json")
    assert listed.exit_code == 0
    assert [m["to"] for m in listed.json] == [email]
    last = oncore("local", "mail", "--last", "--to", email)
    assert last.exit_code == 0 and f"To: {email}" in last.stdout
    empty = oncore("local", "mail", "--last", "--to", "nobody@example.com")
    assert empty.exit_code == 3 and "outbox is empty" in empty.stderr

    logs = oncore("local", "logs", "--service", "postgres", "-n", "5")
    assert logs.exit_code == 0
    gateway = oncore("local", "logs", "-s", "gateway", "-n", "200")
    assert gateway.exit_code == 0 and '"POST /auth/v1/otp HTTP/1.1" 200' in gateway.stdout  # each request
    bad = oncore("local", "logs", "--service", "kafka")
    assert bad.exit_code == 2 and "unknown service" in bad.stderr


def test_busy_port_is_one_line(oncore, home):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = oncore("local", "start", "--port", "0", "--db-port", str(port))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"oncore: port {port} is in use: pass --db-port with a free port (or 0 for any)"
    oncore("local", "stop")


def test_a_busy_gateway_port_leaves_no_postgres_running(oncore, home):
    import socket

    from oncore_cli.local.stack import LocalStack

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = oncore("local", "start", "--port", str(port), "--db-port", "0")
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(f"port {port} is in use: pass --port with a free port (or 0 for any)")
    assert LocalStack(home).cluster.running_pid() is None  # the PostgreSQL it started is stopped again


def test_demo_next_steps_name_only_profiles_that_exist():
    from oncore_cli.core.output import Output
    from oncore_cli.local.demo import DemoResult

    fields = dict(email="e", password="p", profile="local", org_slug="demo", venues=1, shows=1, session_id="s",
                  access_code="c", code_expires_at="x", created=True)
    for previous in (None, "work"):
        printed = []
        out = Output()
        out.message = printed.append
        DemoResult(**fields, previous_profile=previous).print_next_steps(out)
        assert ("oncore profiles use work" in printed[0]) == (previous == "work")
        assert "profiles use default" not in printed[0]


def test_demo_logs_in_and_its_next_steps_work(oncore_process, tmp_path):
    started = oncore_process("local", "start", "--demo", "--port", "0", "--db-port", "0", "--json")
    try:
        assert started.exit_code == 0, started
        demo = started.json["demo"]
        assert demo["shows"] == 7 and demo["venues"] == 6 and demo["created"] is True
        assert len(demo["access_code"].replace("-", "")) >= 8

        who = oncore_process("whoami", "--json")
        assert who.exit_code == 0, who
        assert who.json["email"] == demo["email"]

        shows = oncore_process("shows", "list", "--json")
        assert shows.exit_code == 0
        assert {s["status"] for s in shows.json} == {"confirmed", "hold", "cancelled"}
        assert "Łódź" in {s["city"] for s in shows.json}

        sessions = oncore_process("api", "GET", "/rest/v1/advancing_sessions?select=id,status,shows(date)")
        assert sessions.exit_code == 0
        assert [s["id"] for s in json.loads(sessions.stdout)] == [demo["session_id"]]

        ics = oncore_process("shows", "export", "--format", "ics")
        assert ics.exit_code == 0 and ics.stdout.count("BEGIN:VEVENT") == 7

        session = demo["session_id"][:8]
        assert oncore_process("advancing", "list").exit_code == 0
        assert oncore_process("advancing", "set", session, "hospitality.guest_count=15").exit_code == 0
        sheet = oncore_process("advancing", "show", session, "--json")
        assert sheet.exit_code == 0 and sheet.json["hospitality"]["guest_count"] == 15, sheet
        exported = oncore_process("advancing", "export", session, "--pdf", str(tmp_path / "advance.pdf"))
        assert exported.exit_code == 0 and (tmp_path / "advance.pdf").read_bytes().startswith(b"%PDF")

        # A second run reuses the tour and issues a fresh code; the old one stops working.
        again = oncore_process("local", "start", "--demo", "--json")
        assert again.exit_code == 0, again
        assert again.json["demo"]["created"] is False
        assert again.json["demo"]["access_code"] != demo["access_code"]
        shows_after = oncore_process("shows", "list", "--json")
        assert len(shows_after.json) == 7
    finally:
        oncore_process("local", "stop")


def test_ports_from_the_environment(oncore, home, monkeypatch):
    """ONCORE_LOCAL_PORT / ONCORE_LOCAL_DB_PORT choose the ports when no flag does (0: any free port)."""
    from oncore_cli.local.postgres import free_port
    from tests.cli.conftest import one_line_error

    monkeypatch.setenv("ONCORE_LOCAL_PORT", "port")
    one_line_error(oncore("local", "start"), 2, "ONCORE_LOCAL_PORT='port' is not a port")
    port = free_port()
    monkeypatch.setenv("ONCORE_LOCAL_PORT", str(port))
    monkeypatch.setenv("ONCORE_LOCAL_DB_PORT", "0")
    try:
        started = oncore("local", "start", "--json")
        assert started.exit_code == 0, started
        assert started.json["api_url"] == f"http://127.0.0.1:{port}"
        assert not started.json["db_url"].endswith(":54322/postgres")
    finally:
        oncore("local", "stop")
