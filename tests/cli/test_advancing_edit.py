"""`advancing edit`: $EDITOR driven by small scripts, as a person would use it."""

from __future__ import annotations

import sys
import textwrap

import pytest

from tests.cli.conftest import one_line_error


@pytest.fixture
def session(oncore, venue):
    show = oncore("shows", "create", "--date", "2026-08-01", "--venue", venue["id"], "--json").json
    created = oncore("advancing", "create", show["id"], "--json")
    assert created.exit_code == 0, created
    return created.json["session_id"]


def editor(tmp_path, body: str) -> str:
    """An $EDITOR command running `body` with `path` (the file) and `n` (how many times it has run) defined."""
    script = tmp_path / "editor.py"
    script.write_text(textwrap.dedent("""
        import pathlib, sys
        path = pathlib.Path(sys.argv[1])
        counter = pathlib.Path(__file__).with_suffix(".count")
        n = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(n))
        pathlib.Path(__file__).with_suffix(f".seen{n}").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        text = path.read_text(encoding="utf-8")
    """) + textwrap.dedent(body), encoding="utf-8")
    return f"{sys.executable} {script}"


def history(oncore, session):
    return [e["action"] for e in oncore("advancing", "history", session, "--json").json]


def test_edit_applies_only_changed_fields(oncore, session, tmp_path):
    command = editor(tmp_path, """
        text = text.replace("guest_count: null", "guest_count: 20")
        text = text.replace("notes: null", "notes: Zoë brings 2 guests")
        path.write_text(text, encoding="utf-8")
    """)
    result = oncore("advancing", "edit", session, "hospitality", env={"VISUAL": command, "EDITOR": "false"})
    assert result.exit_code == 0, result
    assert "hospitality.guest_count, hospitality.notes" in result.stderr
    seen = (tmp_path / "editor.seen1").read_text(encoding="utf-8")
    assert "# guest_count: guest list spots" in seen and "# hotel:" in seen  # every field named in a comment
    sheet = oncore("advancing", "show", session, "--json").json
    assert sheet["hospitality"]["guest_count"] == 20 and sheet["hospitality"]["notes"] == "Zoë brings 2 guests"
    entry = oncore("advancing", "history", session, "--json").json[-1]
    assert entry["action"] == "submit_hospitality"
    assert set(entry["changes"]) - {"updated_at", "updated_by"} == {"guest_count", "notes"}


def test_quitting_without_saving_writes_nothing(oncore, session, tmp_path):
    result = oncore("advancing", "edit", session, "technical", env={"EDITOR": editor(tmp_path, "pass\n")})
    assert result.exit_code == 0, result
    assert "nothing written" in result.stderr
    assert history(oncore, session) == ["create_advancing_session"]


def test_invalid_input_reopens_the_editor_with_the_error(oncore, session, tmp_path):
    command = editor(tmp_path, """
        if n == 1:
            text = text.replace("guest_count: null", "guest_count: lots")
        else:
            assert text.startswith("# ERROR: "), text
            text = text.replace("guest_count: lots", "guest_count: 12")
        path.write_text(text, encoding="utf-8")
    """)
    result = oncore("advancing", "edit", session, "hospitality", env={"EDITOR": command})
    assert result.exit_code == 0, result
    second = (tmp_path / "editor.seen2").read_text(encoding="utf-8")
    assert second.splitlines()[0] == '# ERROR: hospitality.guest_count must be a whole number >= 0 (got "lots")'
    assert oncore("advancing", "show", session, "--json").json["hospitality"]["guest_count"] == 12


def test_giving_up_after_an_error_writes_nothing(oncore, session, tmp_path):
    command = editor(tmp_path, """
        if n == 1:
            path.write_text(text.replace("stage: {}", "stage: [unclosed"), encoding="utf-8")
    """)
    result = oncore("advancing", "edit", session, "technical", env={"EDITOR": command})
    assert result.exit_code == 0, result
    assert "not valid YAML" in (tmp_path / "editor.seen2").read_text(encoding="utf-8")
    assert "nothing written" in result.stderr
    assert history(oncore, session) == ["create_advancing_session"]


def test_unknown_fields_and_sections(oncore, session, tmp_path):
    command = editor(tmp_path, """
        if n == 1:
            path.write_text(text + "champagne: true\\n", encoding="utf-8")
    """)
    result = oncore("advancing", "edit", session, "hospitality", env={"EDITOR": command})
    assert result.exit_code == 0, result
    assert "unknown hospitality field 'champagne'" in (tmp_path / "editor.seen2").read_text(encoding="utf-8")
    one_line_error(oncore("advancing", "edit", session, "catering", env={"EDITOR": "true"}), 2, "unknown section")
    one_line_error(oncore("advancing", "edit", session, "production", env={"EDITOR": "no-such-editor-xyz"}), 2,
                   "editor 'no-such-editor-xyz' not found")
    one_line_error(oncore("advancing", "edit", session, "production", env={"EDITOR": "false"}), 1,
                   "editor exited with status 1")
    assert history(oncore, session) == ["create_advancing_session"]
