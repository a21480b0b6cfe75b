"""The auth schema has hosted Supabase's shapes (supabase/auth migrations) where projects and clients can see
them: nullability and defaults of auth.users, auth.sessions' columns and the auth.aal_level enum,
auth.one_time_tokens.token_type as auth.one_time_token_type, the amr claims in auth.mfa_amr_claims."""

from __future__ import annotations

import psycopg
import pytest


@pytest.fixture(scope="module")
def columns(db_url) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select table_name, column_name, is_nullable, udt_name, column_default "
                            "from information_schema.columns where table_schema = 'auth'").fetchall()
    return {(t, c): (nullable, udt, default) for t, c, nullable, udt, default in rows}


@pytest.mark.parametrize("column", ["raw_app_meta_data", "raw_user_meta_data", "created_at", "updated_at",
                                    "email_confirmed_at", "encrypted_password"])
def test_users_columns_are_nullable_without_defaults_as_on_hosted(columns, column):
    nullable, _, default = columns[("users", column)]
    assert (nullable, default) == ("YES", None)


def test_users_flags_keep_hosted_defaults(columns):
    assert columns[("users", "is_sso_user")] == ("NO", "bool", "false")
    assert columns[("users", "is_anonymous")] == ("NO", "bool", "false")


def test_sessions_have_hosted_columns_and_the_aal_enum(columns, db_url):
    expected = {"id": "uuid", "user_id": "uuid", "created_at": "timestamptz", "updated_at": "timestamptz",
                "factor_id": "uuid", "aal": "aal_level", "not_after": "timestamptz", "refreshed_at": "timestamp",
                "user_agent": "text", "ip": "inet", "tag": "text", "oauth_client_id": "uuid",
                "refresh_token_hmac_key": "text", "refresh_token_counter": "int8", "scopes": "text"}
    assert {c: udt for (t, c), (_, udt, _) in columns.items() if t == "sessions"} == expected
    with psycopg.connect(db_url) as conn:
        labels = conn.execute("select enum_range(null::auth.aal_level)::text").fetchone()[0]
        assert labels == "{aal1,aal2,aal3}"


def test_one_time_token_type_is_the_enum(columns, db_url):
    assert columns[("one_time_tokens", "token_type")][1] == "one_time_token_type"
    assert columns[("one_time_tokens", "id")][2] is None  # GoTrue supplies the id
    with psycopg.connect(db_url) as conn:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute("select 'magiclink'::auth.one_time_token_type")


def test_a_sign_in_records_its_amr_claim_and_aal(stack, db_url, unique):
    import httpx

    email = f"shape-{unique}@example.test"
    with httpx.Client(base_url=f"{stack.api_url}/auth/v1", headers={"apikey": stack.anon_key}) as auth:
        answer = auth.post("/signup", json={"email": email, "password": "s3cret-shape-pw"})
        assert answer.status_code == 200, answer.text
        user_id = answer.json()["user"]["id"]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select s.aal::text, c.authentication_method from auth.sessions s "
                            "join auth.mfa_amr_claims c on c.session_id = s.id where s.user_id = %s",
                            (user_id,)).fetchall()
        created = conn.execute("select created_at is not null and raw_app_meta_data is not null from auth.users "
                               "where id = %s", (user_id,)).fetchone()
    assert rows == [("aal1", "password")]
    assert created == (True,)
