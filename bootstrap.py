"""Set up oncore from this clone, then run it: the README's two Quickstart commands.

    python3 bootstrap.py demo [ARGS]   install oncore with its local stack, run `oncore local start --demo ARGS`
    python3 bootstrap.py test [ARGS]   install the test dependencies, run `python -m pytest ARGS` (the whole suite)

oncore goes into the active virtual environment when there is one, else into `.venv` beside this file, created
once with the Python that runs this script (system Pythons marked externally managed, PEP 668, refuse installs
outside one). Later runs reuse `.venv` and skip pip while pyproject.toml is unchanged. The exit code is the
command's own. Standard library only, in syntax old Pythons still parse, so that an old python3 can say what it
lacks instead of failing somewhere in pip.
"""

import hashlib
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
NEEDED = (3, 11)
USAGE = "usage: python3 bootstrap.py demo|test [ARGS...]"
EXTRAS = {"demo": "local", "test": "test"}
# An install with the test extra also has everything the local extra brings.
COVERED_BY = {"local": ("local", "test"), "test": ("test",)}
STAMP = "oncore-bootstrap.txt"  # in the environment's prefix: which extras are installed, for which pyproject.toml


def say(message):
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def fail(message, code=1):
    say("bootstrap.py: " + message)
    sys.exit(code)


def check_python(command):
    if sys.version_info[:2] < NEEDED:
        needed = "%d.%d" % NEEDED
        fail("found Python %s (%s), oncore needs Python %s or newer: run this with a newer one, e.g. python%s "
             "bootstrap.py %s" % (sys.version.split()[0], sys.executable, needed, needed, command))


def in_virtualenv():
    return sys.prefix != getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix))


def bin_dir(prefix):
    return os.path.join(prefix, "Scripts" if os.name == "nt" else "bin")


def oncore_script(prefix):
    return os.path.join(bin_dir(prefix), "oncore.exe" if os.name == "nt" else "oncore")


def venv_python(prefix):
    return os.path.join(bin_dir(prefix), "python.exe" if os.name == "nt" else "python")


def usable(python):
    """True when `python` runs, is new enough and has pip."""
    probe = "import sys, pip; sys.exit(sys.version_info[:2] < %r)" % (NEEDED,)
    try:
        with open(os.devnull, "w") as null:
            return subprocess.call([python, "-c", probe], stdout=null, stderr=null) == 0
    except OSError:
        return False


def create_venv():
    try:
        import ensurepip  # noqa: F401 - venv needs it to put pip into .venv; Debian ships it apart
        import venv
    except ImportError:
        version = "%d.%d" % sys.version_info[:2]
        fail("Python %s (%s) has no venv/ensurepip module, which creating .venv needs: install the python3-venv "
             "package (Debian, Ubuntu: apt install python%s-venv), then run this again"
             % (version, sys.executable, version))
    leftover = os.path.exists(VENV)
    say("%s a virtual environment in .venv (Python %s)" % ("Recreating" if leftover else "Creating",
                                                             sys.version.split()[0]))
    try:
        venv.EnvBuilder(with_pip=True, clear=leftover, symlinks=os.name != "nt").create(VENV)
    except (OSError, subprocess.CalledProcessError) as e:
        fail("could not create .venv: %s" % e)


def environment():
    """(python, prefix) of the environment oncore goes into."""
    if in_virtualenv():
        return sys.executable, sys.prefix
    python = venv_python(VENV)
    if not usable(python):
        create_venv()
        if not usable(python):
            fail("created .venv, but %s does not run pip: delete .venv and try again" % python)
    return python, VENV


def fingerprint():
    digest = hashlib.sha256(ROOT.encode())
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        digest.update(f.read())
    return digest.hexdigest()


def install(python, prefix, extra):
    """pip install -e '.[extra]' unless the stamp says this pyproject.toml is installed with that extra already."""
    stamp = os.path.join(prefix, STAMP)
    current = fingerprint()
    try:
        with open(stamp) as f:
            done = dict(line.split() for line in f if len(line.split()) == 2)
    except (IOError, OSError):
        done = {}
    if os.path.exists(oncore_script(prefix)) and any(done.get(name) == current for name in COVERED_BY[extra]):
        return
    where = os.path.relpath(prefix) if prefix == VENV else prefix
    say("Installing oncore with the %r extra into %s (a minute or two the first time)..." % (extra, where))
    code = subprocess.call([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "--editable", ".[%s]" % extra], cwd=ROOT)
    if code != 0:
        fail("pip install failed (exit code %d); see pip's message above" % code, code)
    done = dict((name, value) for name, value in done.items() if value == current)
    done[extra] = current
    with open(stamp, "w") as f:
        f.write("".join("%s %s\n" % item for item in sorted(done.items())))


def main(argv):
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(__doc__)
        return 0
    if not argv or argv[0] not in EXTRAS:
        fail("unknown command %r; %s" % (argv[0], USAGE) if argv else USAGE, 2)
    command, args = argv[0], argv[1:]
    check_python(command)
    python, prefix = environment()
    install(python, prefix, EXTRAS[command])
    if command == "demo":
        run = [oncore_script(prefix), "local", "start", "--demo"] + args
        cwd = None  # the next steps name paths relative to where the user is
    else:
        run = [python, "-m", "pytest"] + args
        cwd = ROOT
    try:
        return subprocess.call(run, cwd=cwd)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
