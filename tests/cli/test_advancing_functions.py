"""The advancing commands that run on the server, through the local stack's edge functions: `advancing invite`
mails the venue its code (send-email, into the local outbox) and `advancing export --server` has the PDF rendered
and stored by generate-advancing-pdf."""

from __future__ import annotations

import io

import httpx
import pypdf
import pytest

from oncore_cli.local import mail
from tests.cli.conftest import one_line_error


@pytest.fixture
def lodz_session(oncore, org, unique) -> dict:
    venue = oncore("venues", "create", f"Klub Wytwórnia {unique}", "--city", "Łódź", "--country", "PL",
                   "--timezone", "Europe/Warsaw", "--json")
    assert venue.exit_code == 0, venue
    show = oncore("shows", "create", "--date", "2027-05-02", "--venue", venue.json["id"], "--doors", "19:00", "--json")
    assert show.exit_code == 0, show
    created = oncore("advancing", "create", show.json["id"], "--json")
    assert created.exit_code == 0, created
    return created.json | {"venue": venue.json["name"]}


def test_invite_mails_the_code_that_create_printed(oncore, stack_home, lodz_session, unique):
    to = f"production-{unique}@venue.example"
    sent = oncore("advancing", "invite", lodz_session["session_id"][:8], "--email", to,
                  "--code", lodz_session["access_code"])
    assert sent.exit_code == 0, sent
    assert f"to {to}" in sent.stderr
    [message] = mail.list_messages(stack_home / "local", to=to)
    assert message["kind"] == "advancing_invite" and message["access_code"] == lodz_session["access_code"]
    assert lodz_session["access_code"] in message["text"] and "oncore advancing join" in message["text"]


def test_invite_without_a_code_asks_then_issues_a_new_one(oncore, stack_home, lodz_session, unique):
    to = f"pm-{unique}@venue.example"
    one_line_error(oncore("advancing", "invite", lodz_session["session_id"], "--email", to), 2, "--yes")
    assert mail.list_messages(stack_home / "local", to=to) == []  # nothing sent, the old code still stands
    sent = oncore("advancing", "invite", lodz_session["session_id"], "--email", to, "--yes")
    assert sent.exit_code == 0, sent
    [message] = mail.list_messages(stack_home / "local", to=to)
    assert message["access_code"] != lodz_session["access_code"]
    replaced = oncore("advancing", "invite", lodz_session["session_id"], "--email", to,
                      "--code", lodz_session["access_code"])
    assert replaced.exit_code != 0 and len(mail.list_messages(stack_home / "local", to=to)) == 1


def test_invite_refuses_a_bad_address_or_code_before_sending(oncore, lodz_session):
    one_line_error(oncore("advancing", "invite", lodz_session["session_id"], "--email", "venue.example"), 2,
                   "not an e-mail address")
    one_line_error(oncore("advancing", "invite", lodz_session["session_id"], "--email", "a@venue.example",
                          "--code", "nope"), 2)


def test_export_server_renders_and_stores_the_sheet(oncore, lodz_session):
    assert oncore("advancing", "set", lodz_session["session_id"], "hospitality.guest_count=15").exit_code == 0
    made = oncore("advancing", "export", lodz_session["session_id"], "--server", "--expires", "1h")
    assert made.exit_code == 0, made
    url = made.stdout.strip()
    assert "/storage/v1/object/sign/advancing/" in url and "advance-sheet.pdf" in url
    response = httpx.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert "15" in text and "Łódź" in text and lodz_session["venue"] in text


def test_export_needs_a_destination_and_keeps_server_apart(oncore, lodz_session):
    one_line_error(oncore("advancing", "export", lodz_session["session_id"]), 2, "--pdf FILE", "--server")
    one_line_error(oncore("advancing", "export", lodz_session["session_id"], "--server", "--pdf", "x.pdf"), 2,
                   "leave out --pdf")
    one_line_error(oncore("advancing", "export", lodz_session["session_id"], "--server", "--expires", "30d"), 2,
                   "at most 7d")
