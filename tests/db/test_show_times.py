"""A show keeps its own time zone: its wall-clock times never move when its venue's zone is corrected, when it
moves venue, or when the venue is deleted; times without a zone are refused (no silent UTC)."""

from __future__ import annotations

import psycopg
import pytest

from personas import call
from test_validation import insert_show, insert_venue


def wall(conn, user, show, field="doors_at"):
    """(zone, the show's `field` as wall-clock text in the show's own zone)."""
    return tuple(call(conn, user, f"select timezone, to_char({field} at time zone timezone, 'YYYY-MM-DD HH24:MI') "
                                  "from shows where id = %s", (show,)))


def test_new_show_takes_its_venue_zone_and_keeps_it_when_the_venue_goes(conn, new_org):
    org, owner = new_org
    venue = insert_venue(conn, org, owner, timezone="Europe/Berlin")[0]
    show = insert_show(conn, org, owner, venue_id=venue, doors_at="2027-06-01T19:00:00+02:00")[0]
    assert wall(conn, owner, show) == ("Europe/Berlin", "2027-06-01 19:00")
    call(conn, owner, "delete from venues where id = %s returning id", (venue,))
    assert wall(conn, owner, show) == ("Europe/Berlin", "2027-06-01 19:00")
    assert call(conn, owner, "select venue_id from shows where id = %s", (show,)) == (None,)


def test_correcting_a_venue_zone_keeps_its_shows_wall_clock(conn, new_org):
    org, owner = new_org
    venue = insert_venue(conn, org, owner, timezone="America/New_York")[0]
    show = insert_show(conn, org, owner, venue_id=venue, doors_at="2027-06-01T19:00:00-04:00",
                       curfew_at="2027-06-01T23:00:00-04:00",
                       schedule='[{"label": "Soundcheck", "at": "2027-06-01T16:00:00-04:00"}]')[0]
    elsewhere = insert_show(conn, org, owner, venue_id=venue, timezone="Europe/London",
                            doors_at="2027-06-01T19:00:00+01:00")[0]
    call(conn, owner, "update venues set timezone = 'Europe/Berlin' where id = %s returning id", (venue,))
    assert wall(conn, owner, show) == ("Europe/Berlin", "2027-06-01 19:00")
    assert wall(conn, owner, show, "curfew_at") == ("Europe/Berlin", "2027-06-01 23:00")
    at = call(conn, owner, "select ((schedule -> 0 ->> 'at')::timestamptz at time zone 'Europe/Berlin')::text "
                           "from shows where id = %s", (show,))[0]
    assert at == "2027-06-01 16:00:00"
    # A show given its own zone is not the venue's to move.
    assert wall(conn, owner, elsewhere) == ("Europe/London", "2027-06-01 19:00")


def test_a_zone_given_to_a_venue_without_one_corrects_the_utc_its_shows_were_entered_in(conn, new_org):
    org, owner = new_org
    venue = insert_venue(conn, org, owner)[0]  # no zone (as older data may have)
    show = insert_show(conn, org, owner, venue_id=venue, timezone="UTC", doors_at="2027-06-01T19:00:00Z")[0]
    call(conn, owner, "update venues set timezone = 'Europe/Berlin' where id = %s returning id", (venue,))
    assert wall(conn, owner, show) == ("Europe/Berlin", "2027-06-01 19:00")


def test_moving_venue_or_zone_keeps_times_not_set_in_the_same_statement(conn, new_org):
    org, owner = new_org
    berlin = insert_venue(conn, org, owner, name="B", timezone="Europe/Berlin")[0]
    tokyo = insert_venue(conn, org, owner, name="T", timezone="Asia/Tokyo")[0]
    show = insert_show(conn, org, owner, venue_id=berlin, doors_at="2027-06-01T19:00:00+02:00")[0]
    call(conn, owner, "update shows set venue_id = %s where id = %s returning id", (tokyo, show))
    assert wall(conn, owner, show) == ("Asia/Tokyo", "2027-06-01 19:00")
    call(conn, owner, "update shows set timezone = 'Europe/Lisbon', doors_at = '2027-06-01T18:00:00Z' "
                      "where id = %s returning id", (show,))
    assert wall(conn, owner, show) == ("Europe/Lisbon", "2027-06-01 19:00")  # the new instant, as given


def test_times_need_a_zone(conn, new_org):
    org, owner = new_org
    venue = insert_venue(conn, org, owner)[0]
    with pytest.raises(psycopg.errors.CheckViolation, match="a show with times needs a timezone"):
        insert_show(conn, org, owner, venue_id=venue, doors_at="2027-06-01T19:00:00Z")
    with pytest.raises(psycopg.errors.CheckViolation, match='timezone "Mars/Base" is not an IANA time zone'):
        insert_show(conn, org, owner, timezone="Mars/Base")
    assert insert_show(conn, org, owner, venue_id=venue)  # a show without times needs none


def test_advance_sheet_timezone_is_the_shows(conn, new_org):
    org, owner = new_org
    venue = insert_venue(conn, org, owner, timezone="Europe/Berlin")[0]
    show = insert_show(conn, org, owner, venue_id=venue, doors_at="2027-06-01T19:00:00+02:00")[0]
    session = call(conn, owner, "select (create_advancing_session(%s) ->> 'session_id')", (show,))[0]
    call(conn, owner, "delete from venues where id = %s returning id", (venue,))
    sheet = call(conn, owner, "select get_advance_sheet(%s)", (session,))[0]
    assert sheet["timezone"] == "Europe/Berlin"
    assert [(i["label"], i["local_time"]) for i in sheet["schedule"]] == [("Doors", "19:00")]
