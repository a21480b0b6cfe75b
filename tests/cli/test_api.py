"""oncore api METHOD PATH, authenticated with the current profile."""

from __future__ import annotations

import json

from tests.cli.conftest import one_line_error


def test_get_with_query_fields(oncore, venue):
    result = oncore("api", "GET", "/rest/v1/venues", "-f", "select=id,name", "-f", f"id=eq.{venue['id']}")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout) == [{"id": venue["id"], "name": venue["name"]}]
    inline = oncore("api", "get", f"/rest/v1/venues?select=name&id=eq.{venue['id']}")
    assert json.loads(inline.stdout) == [{"name": venue["name"]}]


def test_post_patch_with_typed_fields_and_input(oncore, org, venue, tmp_path):
    created = oncore("api", "POST", "/rest/v1/shows", "-f", f"org_id={org['id']}", "-f", "date=2026-10-01",
                     "-F", "capacity=900", "-F", "title=null", "-H", "Prefer: return=representation")
    assert created.exit_code == 0, created
    show = json.loads(created.stdout)[0]
    assert show["capacity"] == 900 and show["title"] is None
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"notes": "from a file"}))
    patched = oncore("api", "PATCH", f"/rest/v1/shows?id=eq.{show['id']}", "--input", str(body),
                     "-H", "Prefer: return=representation", "--include")
    assert patched.exit_code == 0, patched
    assert patched.stdout.startswith("HTTP/1.1 200")
    assert json.loads(patched.stdout.split("\n\n", 1)[1])[0]["notes"] == "from a file"
    rpc = oncore("api", "POST", "/rest/v1/rpc/list_org_members", "-f", f"org_id={org['id']}")
    assert json.loads(rpc.stdout)[0]["role"] == "owner"


def test_errors_keep_the_body_and_exit_with_the_mapped_code(oncore, user):
    result = oncore("api", "GET", "/rest/v1/no_such_table")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["code"] in ("PGRST205", "42P01")
    assert result.stderr.strip().splitlines()[-1].startswith("oncore: ") and "(HTTP 404)" in result.stderr
    one_line_error(oncore("api", "GET", "/rest/v1/shows", "-f", "novalue"), 2, "bad -f 'novalue'")
    assert oncore("api", "FETCH", "/rest/v1/shows").exit_code == 2


def test_api_needs_a_login(oncore, stack):
    env = {"ONCORE_URL": stack.api_url, "ONCORE_ANON_KEY": stack.anon_key}
    one_line_error(oncore("api", "GET", "/rest/v1/shows", env=env), 4, "not logged in")


def test_a_write_without_filter_prints_the_refusal_and_exits_non_zero(oncore, venue):
    result = oncore("api", "DELETE", "/rest/v1/venues")
    assert result.exit_code == 2, result
    assert json.loads(result.stdout)["code"] == "21000"
    assert result.stderr.strip().splitlines() == ["oncore: DELETE requires a WHERE clause (HTTP 400)"]
    patched = oncore("api", "PATCH", "/rest/v1/venues", "-f", "notes=x")
    assert patched.exit_code == 2 and json.loads(patched.stdout)["message"] == "UPDATE requires a WHERE clause"
    still = oncore("api", "GET", f"/rest/v1/venues?select=name,notes&id=eq.{venue['id']}")
    assert json.loads(still.stdout) == [{"name": venue["name"], "notes": venue.get("notes")}]
