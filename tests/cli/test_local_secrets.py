"""oncore local secrets set|list|unset: stored 0600, SUPABASE_ names refused, values shown only when asked."""

from __future__ import annotations

import json
import stat

from oncore_cli.local.functions import digest


def test_set_list_unset(oncore, home):
    cli, tmp_path = oncore, home
    assert cli("local", "secrets", "set", "STRIPE_WEBHOOK_SECRET=whsec_s3cret", "GREETING=a=b").exit_code == 0
    path = tmp_path / "local" / "function-secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    listed = cli("local", "secrets", "list")
    assert "whsec_s3cret" not in listed.stdout and digest("whsec_s3cret") in listed.stdout
    revealed = json.loads(cli("local", "secrets", "list", "--reveal", "--json").stdout)
    assert {r["name"]: r["value"] for r in revealed} == {"GREETING": "a=b", "STRIPE_WEBHOOK_SECRET": "whsec_s3cret"}
    assert cli("local", "secrets", "unset", "GREETING").exit_code == 0
    assert [r["name"] for r in json.loads(cli("local", "secrets", "list", "--json").stdout)] == ["STRIPE_WEBHOOK_SECRET"]
    assert cli("local", "secrets", "unset", "GREETING").exit_code == 3


def test_bad_names_write_nothing(oncore, home):
    cli, tmp_path = oncore, home
    for bad in (["OK=1", "SUPABASE_URL=x"], ["NOEQUALS"], ["1BAD=x"]):
        result = cli("local", "secrets", "set", *bad)
        assert result.exit_code == 2 and result.stderr.startswith("oncore: ")
    assert not (tmp_path / "local" / "function-secrets.json").exists()
