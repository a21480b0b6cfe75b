"""The wheel carries what `oncore local start` needs on a machine without this checkout: the bootstrap SQL and the
project's supabase/ folder (migrations, functions, seed), found by the same code the stack uses."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_supabase_files_and_finds_them(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("oncore_cli-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    migrations = sorted(p.name for p in (ROOT / "supabase" / "migrations").glob("*.sql"))
    assert migrations
    for name in migrations:
        assert f"oncore_cli/_supabase/migrations/{name}" in names
    assert any(n.startswith("oncore_cli/local/sql/") for n in names)
    for function in ("stripe-webhook", "send-email", "generate-advancing-pdf"):  # the local stack serves them
        assert f"oncore_cli/_supabase/functions/{function}/index.ts" in names
    for font in ("DejaVuSans.ttf", "NotoSansJP-Regular.woff", "LICENSE-NotoSansJP"):
        assert f"oncore_cli/_supabase/functions/generate-advancing-pdf/fonts/{font}" in names
    assert "oncore_cli/__main__.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "oncore = oncore_cli.__main__:main" in archive.read(entry_points).decode()

    found = subprocess.run(
        [sys.executable, "-c", "from oncore_cli.local.paths import supabase_dir; print(supabase_dir())"],
        cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")}, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert Path(found) == tmp_path / "site" / "oncore_cli" / "_supabase"
