"""Which edge functions exist and how each is served, read as the supabase CLI reads them: every
`supabase/functions/<slug>/index.ts` (slug `^[A-Za-z][A-Za-z0-9_-]*$`, so `_shared` is skipped) plus every
`[functions.<slug>]` in config.toml; `enabled` and `verify_jwt` default to true; `entrypoint` and `import_map`
are relative to `supabase/`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

SLUG_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Function:
    name: str
    entrypoint: Path
    verify_jwt: bool = True
    config: Path | None = None   # deno.json / import map passed to Deno


def discover(supabase_dir: Path) -> dict[str, Function]:
    try:
        settings = tomllib.loads((supabase_dir / "config.toml").read_text()).get("functions", {})
    except (OSError, tomllib.TOMLDecodeError):
        settings = {}
    names = {p.parent.name for p in (supabase_dir / "functions").glob("*/index.ts")} | set(settings)
    found: dict[str, Function] = {}
    for name in sorted(names):
        entry = settings.get(name) or {}
        if not SLUG_RE.match(name) or entry.get("enabled", True) is False:
            continue
        folder = supabase_dir / "functions" / name
        entrypoint = supabase_dir / entry["entrypoint"] if "entrypoint" in entry else folder / "index.ts"
        if not entrypoint.is_file():
            continue
        config = supabase_dir / entry["import_map"] if "import_map" in entry else next(
            (folder / f for f in ("deno.json", "deno.jsonc", "import_map.json") if (folder / f).is_file()), None)
        found[name] = Function(name, entrypoint.resolve(), bool(entry.get("verify_jwt", True)), config)
    return found
