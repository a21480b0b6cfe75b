"""PDF commands against the local stack: advancing export, shows daysheet and shows tourbook."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pypdf

from tests.cli.conftest import one_line_error


def pages(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def _show(oncore, venue_id, date, *times):
    result = oncore("shows", "create", "--date", date, "--venue", venue_id, *times, "--json")
    assert result.exit_code == 0, result
    return result.json


def test_daysheet_with_and_without_an_advance(oncore, org, unique, tmp_path):
    zurich = oncore("venues", "create", f"Volkshaus {unique}", "--city", "Zürich", "--country", "CH",
                    "--timezone", "Europe/Zurich", "--address", "Stauffacherstrasse 60", "--json").json
    plain = _show(oncore, zurich["id"], "2026-10-03", "--doors", "19:00", "--curfew", "00:45")
    target = tmp_path / "day.pdf"
    done = oncore("shows", "daysheet", plain["id"], "--pdf", str(target))
    assert done.exit_code == 0, done
    [text] = pages(target.read_bytes())
    assert "Volkshaus" in text and "Zürich" in text and "Stauffacherstrasse 60" in text
    assert "All times Europe/Zurich" in text and "19:00" in text and "00:45" in text and "+1" in text

    advanced = _show(oncore, zurich["id"], "2026-10-04", "--doors", "20:00")
    session = oncore("advancing", "create", advanced["id"], "--json").json["session_id"]
    assert oncore("advancing", "set", session, 'hospitality.hotel={"name": "Hotel Łódź Zürich"}',
                  "hospitality.notes=Laundry on site").exit_code == 0
    # `--pdf -`: the PDF's bytes on stdout, as a real process writes them to a pipe.
    proc = subprocess.run([sys.executable, "-m", "oncore_cli", "shows", "daysheet", "2026-10-04", "--pdf", "-"],
                          capture_output=True, timeout=60,
                          env={**os.environ, "ONCORE_ACCESS_TOKEN": oncore("auth", "token").stdout.strip()})
    assert proc.returncode == 0, proc.stderr
    [text] = pages(proc.stdout)
    assert "Hotel Łódź Zürich" in text and "Laundry on site" in text and "20:00" in text
    one_line_error(oncore("shows", "daysheet", "2027-01-01", "--pdf", str(target)), 3, "not found")


def test_tourbook_contents_then_a_page_per_show(oncore, venue, tmp_path):
    for day in ("2026-09-01", "2026-09-02", "2026-09-03", "2026-09-05"):
        _show(oncore, venue["id"], day, "--doors", "19:00")
    target = tmp_path / "book.pdf"
    done = oncore("shows", "tourbook", "--from", "2026-09-01", "--to", "2026-09-03", "--pdf", str(target))
    assert done.exit_code == 0, done
    book = pages(target.read_bytes())
    assert len(book) == 1 + 3
    assert "3 shows" in book[0] and "2026-09-03" in book[0] and "2026-09-05" not in book[0]
    assert "2026-09-01" in book[1] and "2026-09-03" in book[3] and "Page 4 of 4" in book[3]
    one_line_error(oncore("shows", "tourbook", "--from", "2030-01-01", "--pdf", str(target)), 3, "no shows")


def test_export_errors_write_nothing(oncore, venue, tmp_path):
    show = _show(oncore, venue["id"], "2026-09-10")
    session = oncore("advancing", "create", show["id"], "--json").json["session_id"]
    missing_dir = tmp_path / "no-such-dir" / "a.pdf"
    one_line_error(oncore("advancing", "export", session, "--pdf", str(missing_dir)), 2, "cannot write")
    assert not missing_dir.parent.exists()
    one_line_error(oncore("advancing", "export", "ffffffff", "--pdf", str(tmp_path / "x.pdf")), 3, "not found")
    assert not (tmp_path / "x.pdf").exists()
