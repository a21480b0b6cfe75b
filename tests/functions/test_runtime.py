"""The local edge-function runtime (/functions/v1) against functions written for each case: routing, verify_jwt,
the environment and secrets, and the failure answers (404, 401, 503 BOOT_ERROR, 546 WORKER_LIMIT, 504) — a failing
function never takes the gateway or another function with it."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from supabase import create_client
from supabase_functions.errors import FunctionsHttpError

from oncore_cli.local.functions import write_secrets

ECHO = """
Deno.serve(async (req) => {
  const url = new URL(req.url);
  return Response.json({
    method: req.method, path: url.pathname, query: url.search, body: await req.text(),
    authorization: req.headers.get("authorization"), apikey: req.headers.get("apikey"),
    env: Object.fromEntries(["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_DB_URL",
                             "GREETING", "DENO_TLS_CA_STORE"].map((k) => [k, Deno.env.get(k) ?? null])),
    pid: Deno.pid,
  });
});
"""
CRASH = """
Deno.serve((req) => {
  if (new URL(req.url).pathname.endsWith("/exit")) Deno.exit(3);
  return new Response("alive");
});
"""
HANG = """
Deno.serve(async (req) => {
  if (new URL(req.url).pathname.endsWith("/spin")) { while (true) {} }
  return new Response("awake");
});
"""
BROKEN = "throw new Error('boom at boot');\n"
CONFIG = """
[functions.open-echo]
verify_jwt = false
entrypoint = "./functions/echo/index.ts"

[functions.disabled]
enabled = false
entrypoint = "./functions/echo/index.ts"
"""


@pytest.fixture(scope="module")
def functions_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("supabase")
    (root / "config.toml").write_text(CONFIG)
    for name, source in {"echo": ECHO, "crash": CRASH, "hang": HANG, "broken": BROKEN, "_shared": ECHO}.items():
        (root / "functions" / name).mkdir(parents=True)
        (root / "functions" / name / "index.ts").write_text(source)
    return root


@pytest.fixture
def gw(functions_gateway, functions_dir):
    return functions_gateway(functions_dir, function_timeout=3)


def _user_token(stack, unique) -> str:
    client = create_client(stack.api_url, stack.anon_key)
    session = client.auth.sign_up({"email": f"fn-{unique}@example.com", "password": "correct horse battery"}).session
    return session.access_token


def test_supabase_py_invoke_reaches_the_function_with_the_callers_token(gw, stack, unique):
    client = create_client(gw.url, stack.anon_key)
    token = _user_token(stack, unique)
    client.functions.set_auth(token)
    data = client.functions.invoke("echo/sub/path", {"body": {"hello": "wörld"}, "responseType": "json"})
    assert data["method"] == "POST" and data["path"] == "/echo/sub/path"
    assert data["body"] == '{"hello": "wörld"}' or data["body"] == '{"hello":"wörld"}'
    assert data["authorization"] == f"Bearer {token}"
    env = data["env"]
    assert env["SUPABASE_URL"].startswith("http://127.0.0.1:")  # the stack's API, reachable from the function
    assert env["SUPABASE_ANON_KEY"] == stack.anon_key and env["SUPABASE_SERVICE_ROLE_KEY"] == stack.service_role_key
    assert env["GREETING"] is None
    # npm packages download where TLS passes a company proxy's own authority (in the system store), as with pip
    import os

    assert env["DENO_TLS_CA_STORE"] == os.environ.get("DENO_TLS_CA_STORE", "system,mozilla")
    import psycopg

    with psycopg.connect(env["SUPABASE_DB_URL"]) as conn:  # as `postgres`, as the supabase CLI provides it
        assert conn.execute("select current_user").fetchone() == ("postgres",)


def test_plain_http_query_and_get(gw, stack):
    r = httpx.get(f"{gw.url}/functions/v1/echo?x=1&y=2", headers={"apikey": stack.anon_key})
    assert r.status_code == 200
    body = r.json()
    assert body["method"] == "GET" and body["query"] == "?x=1&y=2"
    assert body["authorization"] == f"Bearer {stack.anon_key}"  # filled from apikey, as Kong does


def test_paths_reach_the_function_as_sent_and_head_is_answered(gw, stack):
    headers = {"apikey": stack.anon_key}
    r = httpx.get(f"{gw.url}/functions/v1/echo/a%20b/%C3%A9?q=%20&r=%2F", headers=headers)
    assert r.status_code == 200
    assert r.json()["path"] == "/echo/a%20b/%C3%A9" and r.json()["query"] == "?q=%20&r=%2F"
    head = httpx.head(f"{gw.url}/functions/v1/echo", headers=headers)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
    assert len(head.headers.get_list("date")) == 1  # the function's and the server's would be two
    assert httpx.get(f"{gw.url}/functions/v1/echo", headers=headers).json()["method"] == "GET"


def test_verify_jwt_is_on_by_default(gw, stack):
    r = httpx.post(f"{gw.url}/functions/v1/echo")
    assert r.status_code == 401 and r.json() == {"msg": "Error: Missing authorization header"}
    r = httpx.post(f"{gw.url}/functions/v1/echo", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401 and r.json() == {"msg": "Invalid JWT"}
    forged = stack.anon_key[:-4] + ("AAAA" if not stack.anon_key.endswith("AAAA") else "BBBB")
    r = httpx.post(f"{gw.url}/functions/v1/echo", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    # OPTIONS passes to the function unchecked (it answers CORS itself)
    assert httpx.options(f"{gw.url}/functions/v1/echo").status_code == 200


def test_verify_jwt_false_needs_no_key(gw):
    r = httpx.post(f"{gw.url}/functions/v1/open-echo/hook", content=b"t=1,v1=ab", headers={"Stripe-Signature": "x"})
    assert r.status_code == 200 and r.json()["path"] == "/open-echo/hook" and r.json()["authorization"] is None


def test_unknown_disabled_and_shared_are_not_found(gw, stack):
    for name in ("nope", "disabled", "_shared", ""):
        r = httpx.post(f"{gw.url}/functions/v1/{name}", headers={"apikey": stack.anon_key})
        assert r.status_code == 404 and r.text == "Function not found", name


def test_supabase_py_sees_function_errors_as_http_errors(gw, stack):
    client = create_client(gw.url, stack.anon_key)
    with pytest.raises(FunctionsHttpError) as e:
        client.functions.invoke("nope")
    assert e.value.status == 404


def test_boot_failure_answers_503_and_logs_why(gw, stack):
    r = httpx.post(f"{gw.url}/functions/v1/broken", headers={"apikey": stack.anon_key}, timeout=60)
    assert r.status_code == 503 and r.json()["code"] == "BOOT_ERROR"
    assert "boom at boot" in gw.log()
    assert httpx.post(f"{gw.url}/functions/v1/echo", headers={"apikey": stack.anon_key}).status_code == 200


def test_a_crashing_function_answers_546_and_comes_back(gw, stack):
    headers = {"apikey": stack.anon_key}
    assert httpx.get(f"{gw.url}/functions/v1/crash", headers=headers, timeout=60).text == "alive"
    r = httpx.get(f"{gw.url}/functions/v1/crash/exit", headers=headers, timeout=60)
    assert r.status_code == 546 and r.json()["code"] == "WORKER_LIMIT"
    assert httpx.get(f"{gw.url}/functions/v1/echo", headers=headers).status_code == 200
    assert httpx.get(f"{gw.url}/functions/v1/crash", headers=headers, timeout=60).text == "alive"  # restarted


def test_a_hanging_function_answers_504_and_others_keep_answering(gw, stack):
    headers = {"apikey": stack.anon_key}
    assert httpx.get(f"{gw.url}/functions/v1/hang", headers=headers, timeout=60).text == "awake"
    echo_pid = httpx.get(f"{gw.url}/functions/v1/echo", headers=headers).json()["pid"]
    with httpx.Client(timeout=60) as client:
        r = client.get(f"{gw.url}/functions/v1/hang/spin", headers=headers)
    assert r.status_code == 504
    # the other function kept its warm worker, and the hung one is replaced
    assert httpx.get(f"{gw.url}/functions/v1/echo", headers=headers).json()["pid"] == echo_pid
    assert httpx.get(f"{gw.url}/functions/v1/hang", headers=headers, timeout=60).text == "awake"


def test_secrets_reach_functions_and_changes_restart_them(gw, stack):
    headers = {"apikey": stack.anon_key}
    first = httpx.get(f"{gw.url}/functions/v1/echo", headers=headers).json()
    assert first["env"]["GREETING"] is None
    write_secrets(gw.data_dir, {"GREETING": "hej"})
    second = httpx.get(f"{gw.url}/functions/v1/echo", headers=headers, timeout=60).json()
    assert second["env"]["GREETING"] == "hej" and second["pid"] != first["pid"]


def test_warm_calls_reuse_the_worker(gw, stack):
    headers = {"apikey": stack.anon_key}
    pids = {httpx.get(f"{gw.url}/functions/v1/echo", headers=headers, timeout=60).json()["pid"] for _ in range(5)}
    assert len(pids) == 1


def test_workers_end_with_the_gateway_even_when_it_is_killed(functions_gateway, functions_dir, stack):
    import os
    import signal

    gw = functions_gateway(functions_dir)
    pid = httpx.get(f"{gw.url}/functions/v1/echo", headers={"apikey": stack.anon_key}, timeout=60).json()["pid"]
    gateway_pid = int(Path(f"/proc/{pid}/stat").read_text().split()[3])  # the worker's parent
    os.kill(gateway_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists() and \
            Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
