"""The demo's next steps say how to reach `oncore` when the one that ran is not on PATH (bootstrap.py's .venv)."""

from __future__ import annotations

import sys

from oncore_cli.local.demo import _how_to_reach_oncore


def make_venv_bin(root):
    bindir = root / ".venv" / "bin"
    bindir.mkdir(parents=True)
    for name in ("oncore", "activate"):
        (bindir / name).write_text("")
        (bindir / name).chmod(0o755)
    return bindir


def test_a_venv_not_on_path_gets_its_activate_line(tmp_path, monkeypatch):
    bindir = make_venv_bin(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(bindir / "oncore"), "local", "start", "--demo"])
    monkeypatch.setenv("PATH", "/nonexistent")
    line = _how_to_reach_oncore()
    assert "source .venv/bin/activate" in line and "call .venv/bin/oncore" in line


def test_a_tool_directory_not_on_path_is_named(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "oncore").write_text("")
    monkeypatch.chdir("/")
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "bin" / "oncore")])
    monkeypatch.setenv("PATH", "/nonexistent")
    assert f"add {tmp_path / 'bin'} to PATH" in _how_to_reach_oncore()


def test_nothing_when_oncore_on_path_is_the_one_that_ran(tmp_path, monkeypatch):
    bindir = make_venv_bin(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(bindir / "oncore")])
    monkeypatch.setenv("PATH", str(bindir))
    assert _how_to_reach_oncore() == ""
    monkeypatch.setattr(sys, "argv", ["/somewhere/oncore_cli/__main__.py"])  # python -m oncore_cli
    assert _how_to_reach_oncore() == ""
