"""/functions/v1 through unmodified supabase-js functions-js (tests/js/functions.mjs): a member's invoke of
send-email lands an invite with the session's code in the outbox, generate-advancing-pdf answers a signed URL to a
readable PDF, and refusals (wrong code, signed out, unknown function, bad Stripe signature) reach the web app as
FunctionsHttpError with the function's answer."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from pypdf import PdfReader

from oncore_cli.local import mail


@pytest.fixture(scope="module")
def report(run_js, stack) -> dict:
    """The script's report, run with a webhook secret set (as `oncore local secrets set` does), restored after."""
    from oncore_cli.local.functions import read_secrets, write_secrets

    before = read_secrets(stack.data_dir)
    write_secrets(stack.data_dir, {**before, "STRIPE_WEBHOOK_SECRET": "whsec_js_test"})
    try:
        return run_js("functions.mjs")
    finally:
        write_secrets(stack.data_dir, before)


def test_invoke_send_email_lands_the_invite(report, stack):
    assert report["invite"]["sent"] is True and report["invite"]["transport"] == "outbox"
    [message] = mail.list_messages(stack.data_dir, to=report["to"])
    assert message["kind"] == "advancing_invite" and message["access_code"] == report["accessCode"]
    assert report["accessCode"] in message["text"] and report["venue"] in message["subject"]


def test_invoke_generate_pdf_answers_a_signed_url_to_the_sheet(report):
    pdf, fetched = report["pdf"], report["fetched"]
    assert pdf["path"].startswith("advancing/") and pdf["path"].endswith("/advance-sheet.pdf")
    assert pdf["expiresIn"] == 3600
    assert fetched["status"] == 200 and fetched["type"] == "application/pdf"
    assert fetched["magic"] == "%PDF-" and fetched["size"] == pdf["bytes"]
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(httpx.get(pdf["signedUrl"]).content)).pages)
    assert report["venue"] in text and "42" in text


@pytest.mark.parametrize("case, status, says", [
    ("wrongCode", 400, "code"),
    ("signedOut", 401, "sign in first"),
    ("missing", 404, "Function not found"),
    ("unsigned", 400, "signature"),
])
def test_refusals_are_functions_http_errors(report, case, status, says):
    failure = report[case]
    assert failure["name"] == "FunctionsHttpError" and failure["httpError"] is True, failure
    assert failure["status"] == status, failure
    assert says.lower() in failure["body"].lower(), failure
    if case != "missing":
        json.loads(failure["body"])  # the function's own JSON answer, intact
