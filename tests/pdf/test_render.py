"""The PDF renderers over get_advance_sheet's content model, checked by content (pypdf) and page counts."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pypdf
import pytest

from oncore_cli.pdf import render_advance_sheet, render_day_sheet, render_tour_book
from oncore_cli.pdf.common import font_path, missing_glyphs
from oncore_cli.pdf.tour_book import contents_pages
from tests.pdf.samples import VENUES, sheet

NAMES = ["Köln", "Łódź", "São Paulo", "Zürich", "渋谷クラブクアトロ"]


def read(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def fonts(data: bytes) -> set[tuple[str, str]]:
    """(BaseFont, how it is embedded) for every font the pages use."""
    found = set()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = (target.get("/FontDescriptor") or {})
            descriptor = descriptor.get_object() if descriptor else {}
            kind = next((k for k in ("/FontFile2", "/FontFile3", "/FontFile") if k in descriptor), "none")
            found.add((str(font["/BaseFont"]), kind))
    return found


def test_the_font_ships_with_the_package_and_covers_every_script():
    assert Path(font_path()).is_file()  # installed with the wheel, never fetched at run time
    assert missing_glyphs("".join(NAMES) + "東京 宇田川町 高橋 健 Zoë Wójcik Łukasz €–—•→·×½°") == set()
    assert missing_glyphs("🎸") == {"🎸"}  # the check itself can fail


@pytest.mark.parametrize("index", range(len(VENUES)))
def test_advance_sheet_renders_non_latin_names_with_an_embedded_truetype_font(index):
    data = render_advance_sheet(sheet(index))
    text = "\n".join(read(data))
    name, city, _, tz = VENUES[index]
    assert name in text and city in text and tz in text
    assert "Zoë Wójcik" in text and "高橋 健" in text
    used = fonts(data)
    assert used and all(kind == "/FontFile2" and "WenQuanYiMicroHei" in base for base, kind in used), used


def test_advance_sheet_content():
    pages = read(render_advance_sheet(sheet(0)))
    text = "\n".join(pages)
    assert "Advance sheet — Nordlicht Tour 2026" in text and "2026-05-01 · Palladium, Köln, DE" in text
    assert "Venue time zone: Europe/Berlin" in text and "Schanzenstraße 40, 51063 Köln, DE" in text
    # Local times in Köln (UTC+2 in May); the curfew after midnight is marked.
    assert "13:00" in text and "21:00" in text and "00:30" in text and "+1 day" in text
    for heading in ("Schedule (Europe/Berlin)", "Contacts", "Hospitality — submitted", "Technical — open",
                    "Production — open", "Guest list — 15 spots", "Notes"):
        assert heading in text, heading
    assert "3-phase 63A" in text and "Hot dinner for 12 at 18:00" in text and "Merch table left of the bar." in text
    assert "Generated 2026-04-20 09:30 UTC by oncore for Nordlicht Tour 2026" in text
    assert f"Page 1 of {len(pages)}" in pages[0] and f"Page {len(pages)} of {len(pages)}" in pages[-1]


def test_long_content_flows_over_pages_with_repeated_table_headers():
    pages = read(render_advance_sheet(sheet(1, guests=120)))
    assert len(pages) >= 4
    with_guests = [page for page in pages if "Guest 60 Łukasz" in page or "Guest 119 Łukasz" in page]
    assert len(with_guests) == 2 and all("Affiliation" in page for page in with_guests)
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, start=1))


def test_day_sheet_is_one_page_however_long_the_day():
    short = read(render_day_sheet(sheet(4)))
    assert len(short) == 1
    assert "渋谷クラブクアトロ" in short[0] and "All times Asia/Tokyo" in short[0] and "Hotel Mondial am Dom" in short[0]
    assert "+1" in short[0] and "Zoë Wójcik" in short[0] and "Runner collects the band at 12:30." in short[0]
    assert len(read(render_day_sheet(sheet(0, guests=200, extra_rows=60)))) == 1


def test_tour_book_has_contents_then_a_page_per_show():
    sheets = [sheet(i, day=dt.date(2026, 5, 1) + dt.timedelta(days=i)) for i in range(100)]
    steps = []
    pages = read(render_tour_book(sheets, title="Nordlicht — tour book", progress=lambda n=1: steps.append(n)))
    first = contents_pages(100)
    assert len(pages) == first + 100 and len(steps) == len(pages) - 1
    assert "Nordlicht — tour book" in pages[0] and "100 shows" in pages[0]
    assert "2026-05-01" in pages[first] and "Palladium" in pages[first]
    assert "2026-08-08" in pages[-1]  # the 100th show on the last page
    last_contents = pages[first - 1]
    assert "2026-08-08" in last_contents and str(len(pages)) in last_contents.split("2026-08-08")[1]


def test_long_values_wrap_inside_their_column():
    doc = sheet(3)
    doc["hospitality"]["notes"] = " ".join(f"Zürich-word{i}" for i in range(120)) + " THE-END"
    text = "\n".join(read(render_advance_sheet(doc)))
    assert "Zürich-word0" in text and "Zürich-word119" in text and "THE-END" in text
    assert max(len(line) for line in text.splitlines()) < 160  # wrapped, not one line running off the page
