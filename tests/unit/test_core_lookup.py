import pytest

from oncore_cli.core.errors import NotFoundError, UsageError
from oncore_cli.services.lookup import pick, slugify

ROWS = [
    {"id": "3f2a1000-0000-4000-8000-000000000001", "slug": "alpha", "name": "Alpha Touring"},
    {"id": "3f2a2000-0000-4000-8000-000000000002", "slug": "beta", "name": "Beta"},
    {"id": "9c000000-0000-4000-8000-000000000003", "slug": "alphabet", "name": "Alphabet"},
]


def test_pick_by_id_slug_name_and_prefix():
    assert pick(ROWS, ROWS[1]["id"].upper(), noun="organization")["slug"] == "beta"
    assert pick(ROWS, "ALPHA", noun="organization")["slug"] == "alpha"  # exact beats prefix
    assert pick(ROWS, "Beta", noun="organization")["slug"] == "beta"
    assert pick(ROWS, "3f2a2", noun="organization")["slug"] == "beta"
    assert pick(ROWS, "alphab", noun="organization")["slug"] == "alphabet"


def test_ambiguous_prefix_lists_candidates():
    with pytest.raises(UsageError) as err:
        pick(ROWS, "3f2a", noun="organization")
    assert "ambiguous" in err.value.message and "3f2a1000 (Alpha Touring)" in err.value.message
    assert err.value.exit_code == 2


def test_unknown_is_not_found():
    with pytest.raises(NotFoundError, match="organization 'gamma' not found: see oncore organizations list"):
        pick(ROWS, "gamma", noun="organization")
    with pytest.raises(UsageError):
        pick(ROWS, " ", noun="organization")


def test_slugify():
    assert slugify("Motörhead — World Tour 2026!") == "motorhead-world-tour-2026"
    assert [slugify(n) for n in ("Łódź", "Straße", "Ørsted", "Œuvre")] == ["lodz", "strasse", "orsted", "oeuvre"]
    assert slugify("!!!") == "org"
