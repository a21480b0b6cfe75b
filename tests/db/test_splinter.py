"""Supabase's database linter finds no WARN and no ERROR on the migrated database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
RUN_SPLINTER = SHARED / "tools" / "splinter" / "run-splinter"


@pytest.mark.skipif(not RUN_SPLINTER.is_file(), reason=f"splinter not found at {RUN_SPLINTER} (../shared is absent)")
def test_splinter_clean(db_url, world):
    # `world` first: lints such as policies on populated tables see real rows.
    result = subprocess.run([sys.executable, str(RUN_SPLINTER), db_url], capture_output=True, text=True, timeout=120)
    findings = [line for line in result.stdout.splitlines() if line.startswith(("WARN", "ERROR"))]
    assert result.returncode == 0 and not findings, result.stdout + result.stderr
    assert "0 errors, 0 warnings" in result.stdout
