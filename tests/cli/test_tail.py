"""`oncore tail` as a real subprocess against the test stack: the guest_count = 15 story seen by the tour manager and
by the venue guest (and by nobody else), --since history, catch-up across a gateway restart, Ctrl-C, bad input."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import psycopg
import pytest

from realtime_world import make_world, rpc

WAIT = 30.0


@pytest.fixture(scope="module")
def world(stack):
    return make_world(stack, uuid.uuid4().hex[:8])


class Tail:
    """`oncore tail ARGS` running; stdout lines arrive on a queue; started once it says it is watching."""

    def __init__(self, stack, token: str, home: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONCORE_")}
        env.update(ONCORE_HOME=str(home), ONCORE_URL=stack.api_url, ONCORE_ANON_KEY=stack.anon_key,
                   ONCORE_ACCESS_TOKEN=token, NO_COLOR="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "oncore_cli", "tail", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue = queue.Queue()
        self.errors: list[str] = []
        watching = threading.Event()

        def read(stream, sink):
            for line in stream:
                sink(line.rstrip("\n"))

        def on_err(line: str) -> None:
            self.errors.append(line)
            if line.startswith("Watching") or "catching up" in line:
                watching.set()

        threading.Thread(target=read, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=read, args=(self.proc.stderr, on_err), daemon=True).start()
        self.watching = watching
        assert watching.wait(WAIT), f"tail did not start: {self.errors}"

    def next(self) -> str:
        return self.lines.get(timeout=WAIT)

    def next_json(self) -> dict:
        return json.loads(self.next())

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=WAIT)


def _submit(stack, token: str, session: str, count: int) -> None:
    rpc(stack, token, "submit_hospitality", {"session_id": session, "data": {"guest_count": count}})


def test_tail_guest_count_story_for_the_tour_manager_and_the_venue_guest(stack, world, tmp_path):
    tm = Tail(stack, world.tm, tmp_path / "tm", "--json")
    tm_text = Tail(stack, world.tm, tmp_path / "tm-text", "hospitality", "--org", world.org)
    guest = Tail(stack, world.guest, tmp_path / "guest", "--json")
    other_guest = Tail(stack, world.other_guest, tmp_path / "other", "--json")
    outsider = Tail(stack, world.outsider, tmp_path / "out", "--json")

    _submit(stack, world.guest, world.session, 15)
    for tail in (tm, guest):
        # the first submission also moves the session from draft to in_progress: two lines, same transaction
        lines = {line["table"]: line for line in (tail.next_json(), tail.next_json())}
        line = lines["hospitality"]
        assert line["actor"] == "venue guest" and line["changes"] == {"guest_count": {"old": None, "new": 15}}
        assert line["name"] == "2027-03-14 Gebäude 9" and line["session_id"] == world.session
        assert line["action"] == "submit_hospitality" and not line["catch_up"] and not line["history"]
        assert lines["advancing_sessions"]["changes"] == {"status": {"old": "draft", "new": "in_progress"}}
    text = [tm_text.next()]
    assert "  venue guest  hospitality  2027-03-14 Gebäude 9  submit_hospitality  guest_count — → 15" in text[0]
    assert tm_text.lines.empty() or "advancing_sessions" not in tm_text.next()   # TABLE limits the feed

    # later changes each of the others may see: per-connection order proves they were not sent the story
    _submit(stack, world.other_guest, world.other_session, 3)
    assert {other_guest.next_json()["session_id"] for _ in range(2)} == {world.other_session}
    rpc(stack, world.outsider, "create_organization", {"name": "Elsewhere", "slug": f"else-{uuid.uuid4().hex[:8]}"})
    own = outsider.next_json()
    assert own["table"] == "org_members" and own["org_id"] != world.org
    # the tour manager follows the whole organization: the other session too, then their own change, by e-mail
    assert {tm.next_json()["session_id"] for _ in range(2)} == {world.other_session}
    _submit(stack, world.tm, world.session, 16)
    mine = tm.next_json()
    assert mine["actor"] == world.tm_email and mine["changes"]["guest_count"] == {"old": 15, "new": 16}
    assert guest.next_json()["changes"]["guest_count"] == {"old": 15, "new": 16}

    for tail in (tm, tm_text, guest, other_guest, outsider):
        assert tail.stop() == 0
        assert not any("Traceback" in line for line in tail.errors), tail.errors
    assert guest.lines.empty() and other_guest.lines.empty() and outsider.lines.empty()


def test_tail_since_replays_history_first(stack, world, tmp_path):
    tail = Tail(stack, world.tm, tmp_path / "h", "--json", "--since", "1h", "--session", world.session)
    first = tail.next_json()
    assert first["history"] and first["session_id"] == world.session
    assert first["action"] == "create_advancing_session"
    assert tail.stop() == 0


@pytest.fixture
def own_stack(tmp_path_factory):
    """A stack of its own: restarting the shared run's gateway would change it under the other tests."""
    from oncore_cli.local.stack import LocalStack

    local = LocalStack(tmp_path_factory.mktemp("tr"))
    info, _ = local.start(port=0, db_port=0)
    yield local, info
    local.stop()


def test_tail_catches_up_across_a_gateway_restart(own_stack, tmp_path):
    local, stack = own_stack
    world = make_world(stack, uuid.uuid4().hex[:8])
    tail = Tail(stack, world.tm, tmp_path / "r", "--json", "--session", world.other_session)
    _submit(stack, world.tm, world.other_session, 20)
    assert tail.next_json()["changes"]["guest_count"]["new"] == 20

    local._kill(stack.gateway_pid)
    # committed while the gateway (and with it realtime) is down: a direct request as the tour manager
    with psycopg.connect(stack.db_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("select set_config('role', 'authenticated', true), "
                         "set_config('request.jwt.claims', %s, true)",
                         (json.dumps({"sub": world.tm_id, "role": "authenticated"}),))
            conn.execute("select public.submit_hospitality(%s, '{\"guest_count\": 21}')", (world.other_session,))
    local.start(port=stack.port, db_port=stack.db_port)

    missed = tail.next_json()
    assert missed["changes"]["guest_count"] == {"old": 20, "new": 21} and missed["catch_up"]
    assert any("catching up" in line for line in tail.errors)
    _submit(stack, world.tm, world.other_session, 22)
    live = tail.next_json()
    assert live["changes"]["guest_count"] == {"old": 21, "new": 22} and not live["catch_up"]
    assert tail.stop() == 0
    assert tail.lines.empty()   # nothing twice


def test_tail_bad_input(oncore, stack, world):
    env = {"ONCORE_URL": stack.api_url, "ONCORE_ANON_KEY": stack.anon_key, "ONCORE_ACCESS_TOKEN": world.tm}
    result = oncore("tail", "bookings", env=env)
    assert result.exit_code == 2 and "oncore: unknown table 'bookings'" in result.stderr
    result = oncore("tail", "--since", "yesterday", env=env)
    assert result.exit_code == 2 and "--since 'yesterday'" in result.stderr
    result = oncore("tail", "--session", str(uuid.uuid4()), env=env)
    assert result.exit_code == 3


def test_tail_without_a_server_says_so(oncore, stack, world):
    from oncore_cli.local.postgres import free_port

    env = {"ONCORE_URL": f"http://127.0.0.1:{free_port()}", "ONCORE_ANON_KEY": stack.anon_key,
           "ONCORE_ACCESS_TOKEN": world.tm}
    result = oncore("tail", "--session", world.session, env=env)
    assert result.exit_code == 1 and result.stderr.startswith("oncore: cannot reach")
