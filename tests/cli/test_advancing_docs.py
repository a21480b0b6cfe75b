"""`advancing docs` and `advancing export --upload` through /storage/v1 of the local stack: the tour and a venue
guest share a session's documents; the bucket's policies keep everyone else out."""

from __future__ import annotations

import httpx
import pytest

from tests.cli.conftest import one_line_error


@pytest.fixture
def session(oncore, venue):
    show = oncore("shows", "create", "--date", "2026-11-20", "--venue", venue["id"], "--json").json
    created = oncore("advancing", "create", show["id"], "--json")
    assert created.exit_code == 0, created
    return created.json


def test_upload_list_download_remove(oncore, session, tmp_path):
    sid = session["session_id"]
    plot = tmp_path / "stage-plot.pdf"
    plot.write_bytes(b"%PDF-1.4 stage plot\n" + bytes(range(256)) * 40)
    inputs = tmp_path / "input-list.csv"
    inputs.write_text("ch,source\n1,Kick\n2,Snare\n", encoding="utf-8")
    uploaded = oncore("advancing", "docs", "upload", sid, str(plot), str(inputs))
    assert uploaded.exit_code == 0, uploaded
    assert "Uploaded stage-plot.pdf" in uploaded.stderr and "application/pdf" in uploaded.stderr

    listed = {d["name"]: d for d in oncore("advancing", "docs", "list", sid, "--json").json}
    assert set(listed) == {"stage-plot.pdf", "input-list.csv"}
    assert listed["stage-plot.pdf"]["size"] == plot.stat().st_size
    assert listed["stage-plot.pdf"]["mimetype"] == "application/pdf"
    assert listed["input-list.csv"]["mimetype"] == "text/csv"
    assert listed["stage-plot.pdf"]["path"] == f"{session['org_id']}/{sid}/stage-plot.pdf"

    big = tmp_path / "backline.bin"
    big.write_bytes(bytes(range(256)) * 8192)  # 2 MiB: large enough for a progress bar on a terminal
    shown = oncore("advancing", "docs", "upload", sid, str(big), tty=True)
    assert shown.exit_code == 0, shown
    assert "Uploading backline.bin" in shown.stderr and "application/octet-stream" in shown.stderr
    quiet = oncore("advancing", "docs", "download", sid, "backline.bin", "-o", str(tmp_path / "b.bin"))
    assert quiet.exit_code == 0 and (tmp_path / "b.bin").read_bytes() == big.read_bytes()
    assert oncore("advancing", "docs", "remove", sid, "backline.bin", "--yes").exit_code == 0

    target = tmp_path / "copy.pdf"
    got = oncore("advancing", "docs", "download", sid, "stage-plot.pdf", "-o", str(target))
    assert got.exit_code == 0, got
    assert target.read_bytes() == plot.read_bytes()

    one_line_error(oncore("advancing", "docs", "upload", sid, str(plot)), 5)  # already there: not replaced
    one_line_error(oncore("advancing", "docs", "remove", sid, "input-list.csv"), 2, "--yes")
    assert oncore("advancing", "docs", "remove", sid, "input-list.csv", "--yes").exit_code == 0
    assert [d["name"] for d in oncore("advancing", "docs", "list", sid, "--json").json] == ["stage-plot.pdf"]
    one_line_error(oncore("advancing", "docs", "remove", sid, "input-list.csv", "--yes"), 3, "no document named")
    one_line_error(oncore("advancing", "docs", "download", sid, "nope.pdf", "-o", str(tmp_path / "n.pdf")), 3)
    assert not (tmp_path / "n.pdf").exists()


def test_bad_input_uploads_nothing(oncore, session, tmp_path, monkeypatch):
    sid = session["session_id"]
    good = tmp_path / "rider.pdf"
    good.write_bytes(b"%PDF-1.4 rider")
    one_line_error(oncore("advancing", "docs", "upload", sid, str(good), str(tmp_path / "missing.pdf")), 2,
                   "no such file")
    from oncore_cli.commands import advancing_docs

    monkeypatch.setattr(advancing_docs, "MAX_BYTES", 10)
    one_line_error(oncore("advancing", "docs", "upload", sid, str(good)), 2, "at most 10 B")
    assert oncore("advancing", "docs", "list", sid, "--json").json == []
    one_line_error(oncore("advancing", "docs", "shred", sid), 2, "unknown action 'shred'")
    one_line_error(oncore("advancing", "docs", "upload", sid), 2, "one or more files")


def test_export_upload_prints_a_signed_url(oncore, session, tmp_path):
    sid = session["session_id"]
    target = tmp_path / "advance.pdf"
    done = oncore("advancing", "export", sid, "--pdf", str(target), "--upload", "--expires", "1h")
    assert done.exit_code == 0, done
    url = done.stdout.strip()
    assert "/storage/v1/object/sign/advancing/" in url and f"{session['org_id']}/{sid}/advance-sheet.pdf" in url
    fetched = httpx.get(url)  # no credentials: the signed URL is enough
    assert fetched.status_code == 200 and fetched.content == target.read_bytes()
    again = oncore("advancing", "export", sid, "--pdf", str(target), "--upload")  # replaces the older sheet
    assert again.exit_code == 0, again
    names = [d["name"] for d in oncore("advancing", "docs", "list", sid, "--json").json]
    assert names == ["advance-sheet.pdf"]


def test_venue_guest_shares_its_session_documents_only(oncore, session, venue, stack, tmp_path):
    home = tmp_path / "venue-home"
    home.mkdir()

    def venue_cli(*args):
        return oncore(*args, env={"ONCORE_HOME": str(home)})

    other_show = oncore("shows", "create", "--date", "2026-11-21", "--venue", venue["id"], "--json").json
    other = oncore("advancing", "create", other_show["id"], "--json").json
    secret = tmp_path / "settlement.pdf"
    secret.write_bytes(b"%PDF-1.4 other session")
    assert oncore("advancing", "docs", "upload", other["session_id"], str(secret)).exit_code == 0

    joined = venue_cli("advancing", "join", session["access_code"], "--url", stack.api_url, "--anon-key",
                       stack.anon_key, "--json").json
    profile = joined["profile"]
    plot = tmp_path / "house-specs.pdf"
    plot.write_bytes(b"%PDF-1.4 venue specs")
    assert venue_cli("--profile", profile, "advancing", "docs", "upload", session["session_id"],
                     str(plot)).exit_code == 0
    assert [d["name"] for d in oncore("advancing", "docs", "list", session["session_id"], "--json").json] == \
        ["house-specs.pdf"]
    one_line_error(venue_cli("--profile", profile, "advancing", "docs", "list", other["session_id"]), 3,
                   "not found")
