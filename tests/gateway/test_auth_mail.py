"""E-mail OTP, magic links, recovery, resend and email change through the local outbox (oncore_cli.local.mail)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from supabase import ClientOptions, create_client
from supabase_auth.errors import AuthApiError

from oncore_cli.local import mail


@pytest.fixture
def client(stack):
    # the implicit flow (sessions in the link's fragment); supabase-py's own default, PKCE, is in test_auth_pkce.py
    return create_client(stack.api_url, stack.anon_key, options=ClientOptions(flow_type="implicit"))


@pytest.fixture
def outbox(stack) -> Path:
    return Path(stack.data_dir)


def _last(outbox: Path, to: str) -> dict:
    messages = mail.list_messages(outbox, to=to)
    assert messages, f"no mail to {to}"
    return messages[-1]


def test_outbox_functions(tmp_path):
    assert mail.list_messages(tmp_path) == []
    first = mail.write_message(tmp_path, "a@example.com", "Hello", "text", "magiclink", otp="123456")
    second = mail.write_message(tmp_path, "B@example.com", "Again", "more", "recovery")
    assert [m["id"] for m in mail.list_messages(tmp_path)] == [first["id"], second["id"]]
    assert [m["id"] for m in mail.list_messages(tmp_path, to="b@EXAMPLE.com")] == [second["id"]]
    assert mail.read_message(tmp_path, first["id"][:6]) == first
    assert mail.read_message(tmp_path, "zz-no-such-id") is None
    assert first["otp"] == "123456" and first["kind"] == "magiclink" and first["created_at"].endswith("Z")
    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".json", ".json"] and json.loads(files[0].read_text()) == first


def test_otp_sign_in_creates_the_user_and_verifies_the_code(client, outbox, unique):
    email = f"otp-{unique}@example.com"
    assert client.auth.sign_in_with_otp({"email": email, "options": {"data": {"via": "otp"}}}).user is None
    message = _last(outbox, email)
    assert message["kind"] == "magiclink" and len(message["otp"]) == 6 and message["otp"].isdigit()
    assert message["otp"] in message["text"] and message["link"] in message["text"]

    with pytest.raises(AuthApiError) as err:
        client.auth.verify_otp({"email": email, "token": "000000" if message["otp"] != "000000" else "111111",
                                "type": "email"})
    assert err.value.status == 403 and err.value.code == "otp_expired"

    res = client.auth.verify_otp({"email": email, "token": message["otp"], "type": "email"})
    assert res.session and res.user.email == email and res.user.user_metadata["via"] == "otp"
    assert client.auth.get_user().user.id == res.user.id

    with pytest.raises(AuthApiError) as err:  # a code works once
        client.auth.verify_otp({"email": email, "token": message["otp"], "type": "email"})
    assert err.value.code == "otp_expired"


def test_otp_without_create_user_refuses_unknown_addresses(client, outbox, unique):
    email = f"nocreate-{unique}@example.com"
    with pytest.raises(AuthApiError) as err:
        client.auth.sign_in_with_otp({"email": email, "options": {"should_create_user": False}})
    assert err.value.status == 422 and err.value.code == "otp_disabled"
    assert mail.list_messages(outbox, to=email) == []


def test_magic_link_token_hash_signs_in_existing_user(client, stack, outbox, unique):
    email = f"magic-{unique}@example.com"
    user = client.auth.sign_up({"email": email, "password": "s3cret-pw"}).user
    other = create_client(stack.api_url, stack.anon_key)
    other.auth.sign_in_with_otp({"email": email, "options": {"should_create_user": False}})
    message = _last(outbox, email)
    query = parse_qs(urlsplit(message["link"]).query)
    assert query["type"] == ["magiclink"] and query["token"] == [message["token_hash"]]
    res = other.auth.verify_otp({"token_hash": message["token_hash"], "type": "magiclink"})
    assert res.user.id == user.id and res.session
    with pytest.raises(AuthApiError) as err:
        other.auth.verify_otp({"token_hash": message["token_hash"], "type": "magiclink"})
    assert err.value.status == 403 and err.value.code == "otp_expired"


def test_clicking_the_link_redirects_with_the_session_in_the_fragment(client, stack, outbox, unique):
    email = f"click-{unique}@example.com"
    client.auth.sign_in_with_otp({"email": email, "options": {"email_redirect_to": "http://localhost:3000/welcome"}})
    message = _last(outbox, email)
    r = httpx.get(message["link"])  # a browser: no apikey
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert (target.netloc, target.path) == ("localhost:3000", "/welcome")
    fragment = parse_qs(target.fragment, keep_blank_values=True)
    assert fragment["token_type"] == ["bearer"] and fragment["type"] == ["magiclink"] and "sb" in fragment
    session = client.auth.set_session(fragment["access_token"][0], fragment["refresh_token"][0])
    assert session.user.email == email
    again = httpx.get(message["link"])
    error = parse_qs(urlsplit(again.headers["location"]).fragment)
    assert again.status_code == 303 and error["error_code"] == ["otp_expired"]


def test_recover_answers_the_same_for_unknown_addresses_and_mails_known_ones(client, stack, outbox, unique):
    known = f"recover-{unique}@example.com"
    client.auth.sign_up({"email": known, "password": "s3cret-pw"})
    unknown = f"ghost-{unique}@example.com"
    client.auth.reset_password_for_email(unknown)
    assert mail.list_messages(outbox, to=unknown) == []
    client.auth.reset_password_for_email(known)
    message = _last(outbox, known)
    assert message["kind"] == "recovery"
    res = client.auth.verify_otp({"email": known, "token": message["otp"], "type": "recovery"})
    assert res.session
    client.auth.update_user({"password": "n3w-password"})
    assert create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
        {"email": known, "password": "n3w-password"}).session


def test_email_change_is_confirmed_by_the_code_sent_to_the_new_address(client, stack, outbox, unique):
    old, new = f"old-{unique}@example.com", f"new-{unique}@example.com"
    client.auth.sign_up({"email": old, "password": "s3cret-pw"})
    pending = client.auth.update_user({"email": new}).user
    assert pending.email == old and pending.new_email == new and pending.email_change_sent_at
    client.auth.resend({"type": "email_change", "email": old})
    messages = mail.list_messages(outbox, to=new)
    assert [m["kind"] for m in messages] == ["email_change", "email_change"]
    res = client.auth.verify_otp({"email": new, "token": messages[-1]["otp"], "type": "email_change"})
    assert res.user.email == new and res.user.new_email is None
    assert create_client(stack.api_url, stack.anon_key).auth.sign_in_with_password(
        {"email": new, "password": "s3cret-pw"}).session


def test_verify_bad_input(stack):
    headers = {"apikey": stack.anon_key}
    url = f"{stack.api_url}/auth/v1/verify"
    for body, code in (({"token": "1"}, "validation_failed"),
                       ({"type": "email", "token": "1", "token_hash": "x"}, "validation_failed"),
                       ({"type": "email", "token_hash": "x", "email": "a@b.co"}, "validation_failed"),
                       ({"type": "bogus", "token_hash": "x"}, "validation_failed"),
                       ({"type": "magiclink", "token_hash": "nope"}, "otp_expired")):
        r = httpx.post(url, json=body, headers=headers)
        assert r.json()["error_code"] == code, body
        assert r.status_code in (400, 403)


def test_resend_signup_confirms_an_unconfirmed_user(stack, outbox, unique):
    admin = create_client(stack.api_url, stack.service_role_key).auth.admin
    email = f"resend-{unique}@example.com"
    admin.create_user({"email": email, "password": "s3cret-pw"})
    client = create_client(stack.api_url, stack.anon_key)
    client.auth.resend({"type": "signup", "email": email})
    message = _last(outbox, email)
    assert message["kind"] == "signup"
    res = client.auth.verify_otp({"email": email, "token": message["otp"], "type": "email"})
    assert res.user.email_confirmed_at is not None and res.user.user_metadata["email_verified"] is True
    client.auth.resend({"type": "signup", "email": email})  # confirmed now: nothing more is sent
    assert len(mail.list_messages(outbox, to=email)) == 1


def test_generated_signup_link_code_confirms_with_type_signup(stack, unique):
    admin = create_client(stack.api_url, stack.service_role_key).auth.admin
    email = f"gensignup-{unique}@example.com"
    link = admin.generate_link({"type": "signup", "email": email, "password": "s3cret-pw"})
    assert link.user.email_confirmed_at is None and link.properties.verification_type == "signup"
    client = create_client(stack.api_url, stack.anon_key)
    res = client.auth.verify_otp({"email": email, "token": link.properties.email_otp, "type": "signup"})
    assert res.session and res.user.email_confirmed_at is not None
    assert client.auth.sign_in_with_password({"email": email, "password": "s3cret-pw"}).session
