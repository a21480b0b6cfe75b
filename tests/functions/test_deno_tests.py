"""Each function's own `deno test` suite, run from pytest (so the README's test command runs it), with the test
run's stack for the parts that go through the real RPCs."""

from __future__ import annotations

import os
import subprocess

import pytest

from oncore_cli.local.functions import deno_binary, deno_env
from oncore_cli.local.paths import supabase_dir


@pytest.mark.parametrize("name", ["stripe-webhook", "send-email", "generate-advancing-pdf"])
def test_deno_test(name, stack, owner):
    deno = deno_binary()
    assert deno, "Deno is needed: pip install deno"
    env = {**deno_env(dict(os.environ)), "NO_COLOR": "1", "ONCORE_TEST_SUPABASE_URL": stack.api_url,
           "ONCORE_TEST_SERVICE_ROLE_KEY": stack.service_role_key, "ONCORE_TEST_ORG_ID": owner.org_id}
    proc = subprocess.run([deno, "test", "--allow-all", "--no-prompt", str(supabase_dir() / "functions" / name)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = [line for line in proc.stdout.splitlines() if " passed | " in line][-1]
    assert " 0 failed" in summary and "ignored" not in summary, summary  # the stack-backed tests ran too
