"""oncore seed: a fixture into the local stack with the service-role key, idempotent; --reset only locally."""

from __future__ import annotations

import psycopg

from tests.cli.conftest import one_line_error

FIXTURE = """
orgs:
  - slug: seed-{u}
    name: Seed {u}
    members:
      - {{email: tm-{u}@seed.example, role: owner}}
      - {{email: pm-{u}@seed.example, role: admin, password: "fixed password 1"}}
    venues:
      - {{name: Palladium, city: Köln, country: DE, timezone: Europe/Berlin, capacity: 4000}}
    shows:
      - {{date: 2027-03-14, venue_name: Palladium, city: Köln, status: confirmed, doors: 19:00, curfew: "01:00"}}
      - {{date: 2027-03-15, venue_name: Palladium, city: Köln}}
    advancing:
      - {{date: 2027-03-14, venue_name: Palladium, title: Spring}}
"""


def test_seed_is_idempotent_and_users_can_log_in(oncore, stack, db_url, tmp_path, unique, login):
    path = tmp_path / "fixture.yaml"
    path.write_text(FIXTURE.format(u=unique), encoding="utf-8")
    env = {"ONCORE_URL": stack.api_url, "ONCORE_SERVICE_ROLE_KEY": stack.service_role_key}
    first = oncore("seed", path, "--json", env=env)
    assert first.exit_code == 0, first
    body = first.json
    assert body["orgs"][0]["created"] is True and body["orgs"][0]["shows"]["created"] == 2
    generated = {u["email"]: u.get("password") for u in body["users"]}
    assert generated[f"pm-{unique}@seed.example"] is None and generated[f"tm-{unique}@seed.example"]
    assert body["sessions"][0]["access_code"]

    again = oncore("seed", path, "--json", env=env).json
    assert again["orgs"][0]["shows"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert not any("password" in u for u in again["users"]) and again["sessions"][0]["created"] is False
    with psycopg.connect(db_url) as conn:
        org_id = body["orgs"][0]["id"]
        assert conn.execute("select count(*) from advancing_sessions where org_id = %s", (org_id,)).fetchone()[0] == 1
        doors = conn.execute("select to_char(doors_at at time zone 'Europe/Berlin', 'HH24:MI') from shows "
                             "where org_id = %s and date = '2027-03-14'", (org_id,)).fetchone()[0]
        assert doors == "19:00"  # YAML's unquoted 19:00 (a base-60 number) read back as a time

    from tests.cli.conftest import User

    login(User(f"tm-{unique}@seed.example", generated[f"tm-{unique}@seed.example"], ""))
    assert [s["date"] for s in oncore("shows", "list", "--org", f"seed-{unique}", "--json").json] == \
        ["2027-03-14", "2027-03-15"]

    reset = oncore("seed", path, "--reset", "--yes", "--json", env=env)
    assert reset.exit_code == 0 and reset.json["orgs"][0]["created"] is True, reset


def test_seed_needs_the_environment_and_refuses_remote_reset(oncore, tmp_path, stack):
    path = tmp_path / "f.json"
    path.write_text('{"orgs": []}')
    one_line_error(oncore("seed", path), 2, "ONCORE_SERVICE_ROLE_KEY")
    env = {"ONCORE_URL": "https://abc.supabase.co", "ONCORE_SERVICE_ROLE_KEY": "x"}
    one_line_error(oncore("seed", path, "--reset", "--yes", env=env), 2, "only against the local stack")
    bad = tmp_path / "bad.yaml"
    bad.write_text("orgs: [unclosed")
    env = {"ONCORE_URL": stack.api_url, "ONCORE_SERVICE_ROLE_KEY": stack.service_role_key}
    one_line_error(oncore("seed", bad, env=env), 2, "not valid YAML")
