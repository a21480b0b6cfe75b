"""Shell completion: the committed scripts in completions/ match the commands, and the bash one completes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from oncore_cli.core.completion import SHELLS, script

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"
REGENERATE = "python -m oncore_cli.core.completion completions"


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_committed_scripts_match_the_commands(shell):
    committed = (COMPLETIONS / SHELLS[shell]).read_text()
    assert committed == script(shell), f"completions/{SHELLS[shell]} is stale: run `{REGENERATE}`"


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_completion_command_prints_the_script(oncore, shell):
    result = oncore("completion", shell)
    assert result.exit_code == 0
    assert result.stdout == (COMPLETIONS / SHELLS[shell]).read_text()


def test_unknown_shell(oncore):
    result = oncore("completion", "tcsh")
    assert result.exit_code == 2 and "tcsh" in result.stderr


def test_every_verb_is_in_the_scripts():
    bash = script("bash")
    for path in ("shows export", "venues update", "members set-role", "orgs rename", "profiles remove", "auth token"):
        assert f'"{path}")' in bash
    assert "--password-stdin" in bash and "--curfew" in bash


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("words,expected", [
    ("oncore sh", ["shows"]),
    ("oncore shows ex", ["export"]),
    ("oncore --profile x shows l", ["list"]),
    ("oncore shows list --f", ["--format", "--from"]),
    ("oncore login --pa", ["--password-stdin"]),
    ("oncore members ", ["list", "add", "set-role", "remove"]),
])
def test_bash_completes(words, expected):
    line = words.split(" ")
    program = (f"source {COMPLETIONS / 'oncore.bash'}\n"
               f"COMP_WORDS=({' '.join(repr(w) for w in line)}); COMP_CWORD={len(line) - 1}\n"
               "_oncore; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True).stdout
    assert sorted(out.split()) == sorted(expected)


def _bash_complete(words: str, env: dict | None = None) -> list[str]:
    line = words.split(" ")
    program = (f"source {COMPLETIONS / 'oncore.bash'}\n"
               f"COMP_WORDS=({' '.join(repr(w) for w in line)}); COMP_CWORD={len(line) - 1}\n"
               "_oncore; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True, env=env)
    return [word for word in out.stdout.split("\n") if word]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("words,expected", [
    ("oncore shows list --status ", ["hold", "confirmed", "cancelled"]),
    ("oncore shows update x --status c", ["confirmed", "cancelled"]),
    ("oncore shows list -o ", ["table", "tsv", "csv", "json", "ndjson"]),
    ("oncore shows export --format ", ["csv", "json", "ics"]),
    ("oncore members add x --role a", ["admin"]),
    ("oncore local logs -s ", ["gateway", "postgres", "all"]),
])
def test_bash_completes_option_values(words, expected):
    assert sorted(_bash_complete(words)) == sorted(expected)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_profiles_orgs_and_venues_from_the_project(oncore, venue, org, user, login, tmp_path):
    import os
    import sys

    login(user, profile="pm")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "oncore").write_text(f'#!/bin/sh\nexec {sys.executable} -m oncore_cli "$@"\n')
    (bin_dir / "oncore").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "ONCORE_ACCESS_TOKEN": oncore("auth", "token").stdout.strip()}
    assert sorted(_bash_complete("oncore --profile ", env)) == ["default", "pm"]
    assert _bash_complete("oncore venues list --org ", env) == [org["slug"]]
    assert _bash_complete("oncore shows create --venue Col", env) == [venue["name"]]  # one word, spaces and all
