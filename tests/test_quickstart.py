"""The README's Quickstart, run as written by a newcomer: a fresh clone, both commands parsed from README.md, and a
`python3` that refuses `pip install` outside a virtual environment (PEP 668), as Debian's, Ubuntu's, Fedora's and
Homebrew's do. The clone is of the commit checked out here (uncommitted changes are not in it).

The scratch `python3` is this run's base interpreter, copied beside a standard library made of links to the real
one plus an `EXTERNALLY-MANAGED` file, the marker pip obeys; it needs no root and no system package. Its stack
runs in a temporary ONCORE_HOME on free ports, so it never meets the suite's stack or a developer's on 54321.
pip installs into the clone's fresh .venv from PyPI (or the pip cache).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INNER = "ONCORE_QUICKSTART_INNER"  # set for the suite that the test command starts inside this test
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
# What the inner run of the test command runs instead of the whole suite (which is running already).
INNER_SELECTION = "-p no:cacheprovider tests/unit/test_core_times.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get(INNER) == "1", reason="inside the Quickstart's own test command"),
    pytest.mark.skipif(os.name != "posix", reason="the scratch interpreter is a POSIX layout"),
]


def quickstart_commands() -> list[str]:
    """The shell commands in the README's Quickstart section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_the_readme_has_two_single_line_commands_and_ci_runs_the_second():
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def externally_managed_python(where: Path) -> Path:
    """A copy of the base interpreter whose stdlib directory carries EXTERNALLY-MANAGED, and whose site-packages
    has pip only, like a distribution's python3 with its pip package."""
    stdlib = Path(sysconfig.get_path("stdlib"))  # the base interpreter's, also from inside a virtual environment
    real = Path(sys._base_executable).resolve()
    bindir = where / "bin"
    lib = where / "lib" / stdlib.name
    bindir.mkdir(parents=True)
    lib.mkdir(parents=True)
    shutil.copy2(real, bindir / real.name)
    (bindir / "python3").symlink_to(real.name)
    for entry in stdlib.iterdir():
        if entry.name not in ("site-packages", "dist-packages", "EXTERNALLY-MANAGED"):
            (lib / entry.name).symlink_to(entry)
    for libpython in Path(sysconfig.get_config_var("LIBDIR") or "/nonexistent").glob("libpython3*.so*"):
        (where / "lib" / libpython.name).symlink_to(libpython)  # a shared build finds it relative to itself too
    (lib / "EXTERNALLY-MANAGED").write_text(
        "[externally-managed]\nError=This Python is managed by the system: use a virtual environment.\n")
    import pip

    python = bindir / "python3"
    # Where the copy looks for packages: lib/python3.X/site-packages, or lib/python3/dist-packages on Debian.
    asked = subprocess.run([str(python), "-c", "import site; print('\\n'.join(site.getsitepackages()))"],
                           capture_output=True, text=True, check=True, env={})
    site = next(Path(p) for p in asked.stdout.split() if Path(p).is_relative_to(where))
    site.mkdir(parents=True, exist_ok=True)
    (site / "pip").symlink_to(Path(pip.__file__).parent)
    return python


def newcomer_env(python: Path, home: Path) -> dict[str, str]:
    """The system's PATH behind the scratch python3, no virtual environment, a fresh ONCORE_HOME, free ports."""
    keep = {name: value for name, value in os.environ.items()
            if not name.startswith(("PYTHON", "VIRTUAL_ENV", "CONDA", "PYENV", "ONCORE_", "PYTEST", "PIP_REQUIRE"))}
    return {**keep, "PATH": f"{python.parent}:{SYSTEM_PATH}", "ONCORE_HOME": str(home), "ONCORE_LOCAL_PORT": "0",
            "ONCORE_LOCAL_DB_PORT": "0", "NO_COLOR": "1", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def run(command: str | list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    shell = isinstance(command, str)
    return subprocess.run(["sh", "-c", command] if shell else command, cwd=cwd, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=1800)


def test_quickstart_on_an_externally_managed_python(tmp_path_factory):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to clone")
    scratch = tmp_path_factory.mktemp("qs")  # short: PostgreSQL's socket path must stay under ~100 bytes
    clone = scratch / "oncore"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", head], cwd=clone, check=True)
    python = externally_managed_python(scratch / "py")
    home = scratch / "home"
    env = newcomer_env(python, home)
    demo, tests = quickstart_commands()

    refused = run("python3 -m pip install --no-index oncore-cli", clone, env)
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stderr, refused

    from oncore_cli.local.stack import LocalStack

    try:
        first = run(demo, clone, env)
        assert first.returncode == 0, first
        assert "Loaded the demo tour" in first.stderr and "Next steps:" in first.stderr
        assert "source .venv/bin/activate" in first.stderr  # how to reach the oncore that lives in .venv
        oncore = clone / ".venv" / "bin" / "oncore"
        shows = run([str(oncore), "shows", "list", "--json"], clone, env)
        assert shows.returncode == 0, shows
        listed = json.loads(shows.stdout)
        assert len(listed) >= 5 and {"Palladium", "Roundhouse"} <= {show["venue_name"] for show in listed}

        again = run(demo, clone, env)  # .venv exists and the stack runs: both are reused
        assert again.returncode == 0, again
        assert "already running" in again.stderr and "Reused the demo tour" in again.stderr
    finally:
        LocalStack(home).stop()
    assert not LocalStack(home).status().running

    inner = run(tests, clone, {**env, INNER: "1", "PYTEST_ADDOPTS": INNER_SELECTION})
    assert inner.returncode == 0, inner
    assert re.search(r"\b\d+ passed\b", inner.stdout), inner.stdout
    assert (clone / ".venv" / "bin" / "pytest").exists()  # the test extra went into the same .venv


def older_python() -> str | None:
    """A Python older than 3.11 on this machine (pyenv's, or on PATH), if any."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for minor in ("3.10", "3.9", "3.8", "3.7", "3.6"):
        for found in [*map(str, sorted(pyenv.glob(f"{minor}.*/bin/python{minor}"))), shutil.which(f"python{minor}")]:
            probe = "import sys; sys.exit(sys.version_info[:2] >= (3, 11))"
            if found and subprocess.run([found, "-c", probe], capture_output=True).returncode == 0:
                return found
    return None


def test_an_old_python_gets_one_line(tmp_path):
    old = older_python()
    if old is None:
        pytest.skip("no Python older than 3.11 on this machine")
    shutil.copy2(ROOT / "bootstrap.py", tmp_path)
    done = subprocess.run([old, "bootstrap.py", "demo"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "found Python 3." in lines[0] and "needs Python 3.11 or newer" in lines[0], lines
    assert not (tmp_path / ".venv").exists()


def test_a_python_without_ensurepip_gets_one_line_naming_the_package(tmp_path):
    python = externally_managed_python(tmp_path / "py")
    (python.parent.parent / "lib" / Path(sysconfig.get_path("stdlib")).name / "ensurepip").unlink()
    project = tmp_path / "project"  # a clone without .venv: bootstrap.py must create one, and cannot
    project.mkdir()
    shutil.copy2(ROOT / "bootstrap.py", project)
    done = subprocess.run([str(python), "bootstrap.py", "demo"], cwd=project, capture_output=True, text=True,
                          env=newcomer_env(python, tmp_path / "home"))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    version = "%d.%d" % sys.version_info[:2]
    assert len(lines) == 1 and "install the python3-venv package" in lines[0], done.stderr
    assert f"apt install python{version}-venv" in lines[0]
    assert not (project / ".venv").exists()
