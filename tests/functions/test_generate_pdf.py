"""generate-advancing-pdf end to end: the caller's session rendered by the function, stored in the `advancing`
bucket through the Storage API, fetched by its signed URL and read back with pypdf."""

from __future__ import annotations

import io

import httpx
import pytest
from pypdf import PdfReader
from supabase import create_client
from supabase_functions.errors import FunctionsHttpError


def test_the_pdf_holds_the_guest_count_and_the_venue_name(stack, owner, session):
    client = create_client(stack.api_url, stack.anon_key)
    client.functions.set_auth(owner.token)
    made = client.functions.invoke("generate-advancing-pdf", {"body": {"session_id": session.id},
                                                              "responseType": "json"})
    assert made["path"] == f"advancing/{owner.org_id}/{session.id}/advance-sheet.pdf"
    pdf = httpx.get(made["signed_url"], timeout=30)  # a signed URL needs no key
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and len(pdf.content) == made["bytes"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Guest count: 137" in text
    assert session.venue in text and "Москва" in text


def test_a_cjk_venue_name_is_drawn_and_extractable(stack, owner, unique):
    """Kana and kanji come from the function's CJK font: the text is in the PDF, not boxes or dropped glyphs."""
    c = owner.client
    name = f"東京ドーム {unique}"
    venue = c.table("venues").insert({"org_id": owner.org_id, "name": name, "city": "東京", "country": "JP",
                                      "timezone": "Asia/Tokyo"}).execute().data[0]
    show = c.table("shows").insert({"org_id": owner.org_id, "venue_id": venue["id"], "date": "2027-06-01",
                                    "status": "confirmed", "title": "大阪城ホール 楽屋"}).execute().data[0]
    session_id = c.rpc("create_advancing_session", {"show_id": show["id"]}).execute().data["session_id"]
    client = create_client(stack.api_url, stack.anon_key)
    client.functions.set_auth(owner.token)
    made = client.functions.invoke("generate-advancing-pdf", {"body": {"session_id": session_id},
                                                              "responseType": "json"})
    reader = PdfReader(io.BytesIO(httpx.get(made["signed_url"], timeout=30).content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert name in text and "東京, JP" in text and "大阪城ホール" in text
    fonts = {font.get_object()["/BaseFont"] for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    assert any("NotoSansJP" in f for f in fonts) and any("DejaVuSans" in f for f in fonts), fonts
    assert made["bytes"] < 200_000  # the CJK font is subset, not embedded whole


def test_outsiders_and_anonymous_callers_get_nothing(stack, owner, session, unique):
    outsider = create_client(stack.api_url, stack.anon_key)
    token = outsider.auth.sign_up({"email": f"pdf-out-{unique}@example.com",
                                   "password": "correct horse battery"}).session.access_token
    outsider.functions.set_auth(token)
    with pytest.raises(FunctionsHttpError) as e:
        outsider.functions.invoke("generate-advancing-pdf", {"body": {"session_id": session.id}})
    assert e.value.status in (403, 404)
    r = httpx.post(f"{stack.api_url}/functions/v1/generate-advancing-pdf", headers={"apikey": stack.anon_key},
                   json={"session_id": session.id}, timeout=60)
    assert r.status_code == 401
    listed = owner.client.storage.from_("advancing").list(f"{owner.org_id}/{session.id}")
    assert listed == []
