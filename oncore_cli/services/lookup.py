"""Finding one record from what a user types: a UUID, a unique id prefix, or a readable key (slug, name, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from oncore_cli.core.errors import NotFoundError, UsageError

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
PREFIX_RE = re.compile(r"^[0-9a-f-]{4,36}$", re.I)
MAX_CANDIDATES = 5


def is_uuid(text: str) -> bool:
    return bool(UUID_RE.match(text))


def pick(rows: Sequence[dict], ref: str, *, noun: str, keys: Iterable[str] = ("slug", "name"),
         label: Callable[[dict], str] | None = None, list_hint: str | None = None) -> dict:
    """The single row `ref` names: exact id, exact key (case-insensitive), id prefix, then key prefix.

    Unknown → NotFoundError (exit 3); several matches → UsageError (exit 2) listing the candidates."""
    ref = ref.strip()
    if not ref:
        raise UsageError(f"empty {noun} identifier")
    lowered = ref.lower()
    by_id = [r for r in rows if str(r.get("id", "")).lower() == lowered]
    if by_id:
        return by_id[0]
    for key in keys:
        exact = [r for r in rows if r.get(key) is not None and str(r[key]).lower() == lowered]
        if len(exact) == 1:
            return exact[0]
        if len(exact) > 1:
            raise _ambiguous(noun, ref, exact, label)
    if PREFIX_RE.match(ref):
        prefixed = [r for r in rows if str(r.get("id", "")).lower().startswith(lowered)]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise _ambiguous(noun, ref, prefixed, label)
    for key in keys:  # last resort: the start of a name ("columbia" for "Columbiahalle")
        started = [r for r in rows if r.get(key) is not None and str(r[key]).lower().startswith(lowered)]
        if len(started) == 1:
            return started[0]
        if len(started) > 1:
            raise _ambiguous(noun, ref, started, label)
    hint = list_hint or f"oncore {noun}s list"
    if re.fullmatch(r"[0-9a-f]{1,3}", lowered):
        raise UsageError(f"{noun} id prefix {ref!r} is too short: give at least 4 characters of the id ({hint})")
    raise NotFoundError(f"{noun} {ref!r} not found: see {hint}")


def _ambiguous(noun: str, ref: str, rows: Sequence[dict], label) -> UsageError:
    label = label or (lambda r: str(r.get("name") or r.get("slug") or ""))
    shown = ", ".join(f"{str(r['id'])[:8]} ({label(r)})" for r in rows[:MAX_CANDIDATES])
    more = f" and {len(rows) - MAX_CANDIDATES} more" if len(rows) > MAX_CANDIDATES else ""
    return UsageError(f"{noun} {ref!r} is ambiguous: {shown}{more}; use a longer id prefix")


# Letters that do not decompose into a base letter plus accents (NFKD would drop them).
_LETTERS = str.maketrans({"ß": "ss", "Ł": "L", "ł": "l", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d", "Æ": "AE",
                          "æ": "ae", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th", "Ð": "D", "ð": "d", "ı": "i",
                          "Ħ": "H", "ħ": "h"})


def slugify(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name.translate(_LETTERS)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:63].strip("-") or "org"
