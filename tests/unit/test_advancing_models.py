"""Section models and `section.field=value` parsing: checked before anything is sent."""

from __future__ import annotations

import datetime as dt

import pytest

from oncore_cli.core.errors import UsageError
from oncore_cli.models.advancing import SECTIONS, parse_assignments, validate
from oncore_cli.services.advancing import normalise_code, parse_duration


def test_models_mirror_the_servers_section_fields():
    # private.section_fields() in 20261126000200_advancing.sql, field for field
    assert set(SECTIONS["hospitality"].model_fields) == {
        "status", "guest_count", "guest_list", "catering", "dressing_rooms", "hotel", "rider_items", "towels",
        "water", "notes"}
    assert set(SECTIONS["technical"].model_fields) == {
        "status", "stage", "pa", "monitors", "consoles", "backline", "power", "rigging", "lighting", "documents",
        "notes"}
    assert set(SECTIONS["production"].model_fields) == {
        "status", "crew_calls", "local_crew", "runners", "security", "merch", "settlement", "parking", "notes"}


def test_typed_values():
    parsed = parse_assignments(["hospitality.guest_count=15", "technical.power=3-phase 63A",
                                'hospitality.rider_items=["Water", "Coffee"]', "technical.stage.width_m=12.5",
                                "technical.stage.risers.drum=2x2", "hospitality.notes=", "production.status=submitted"])
    assert parsed == {"hospitality": {"guest_count": 15, "rider_items": ["Water", "Coffee"], "notes": None},
                      "technical": {"power": {"summary": "3-phase 63A"},
                                    "stage": {"width_m": 12.5, "risers": {"drum": "2x2"}}},
                      "production": {"status": "submitted"}}
    merged = parse_assignments(["technical.stage.depth_m=8"], {"technical": {"stage": {"width_m": 12}}})
    assert merged == {"technical": {"stage": {"width_m": 12, "depth_m": 8}}}


@pytest.mark.parametrize("item, message", [
    ("hospitality.guests=3", "valid fields are catering, dressing_rooms, guest_count, guest_list, hotel, notes, "
                             "rider_items, status, towels, water"),
    ("bar.guest_count=3", "unknown section 'bar'"),
    ("hospitality.guest_count=1.5", "whole number"),
    ("hospitality.guest_count=-2", "whole number >= 0"),
    ("hospitality.guest_count=99999999999", "whole number >= 0"),
    ("hospitality.status=done", '"open", "submitted", "confirmed"'),
    ("hospitality.guest_list=Zoë", "is a list"),
    ("technical.stage=[1]", "must be a JSON object"),
    ("technical.stage={oops", "bad JSON"),
    ("hospitality.hotel=@/no/such/file.json", "cannot read"),
    ("hospitality", "section.field=value"),
    ("=3", "section.field=value"),
])
def test_bad_input_is_refused_with_one_line(item, message):
    with pytest.raises(UsageError) as err:
        parse_assignments([item])
    assert message in err.value.message and "\n" not in err.value.message


def test_validate_is_strict_about_types():
    validate("hospitality", {"guest_count": 0, "guest_list": []})
    for bad in ({"guest_count": True}, {"guest_count": "3"}, {"notes": 3}, {"hotel": "Ibis"}):
        with pytest.raises(UsageError):
            validate("hospitality", bad)


def test_durations_and_codes():
    assert parse_duration("30d") == ("30 days", dt.timedelta(days=30))
    assert parse_duration("12h")[0] == "12 hours" and parse_duration("2w")[1] == dt.timedelta(weeks=2)
    with pytest.raises(UsageError):
        parse_duration("soon")
    assert normalise_code("abcd efgh jkmn") == "ABCD-EFGH-JKMN"
    with pytest.raises(UsageError):
        normalise_code("ABCD-EFGH")
