"""Constraint errors on venues and shows name the field and what was expected (they surface verbatim in the CLI)."""

from __future__ import annotations

import json

import psycopg
import pytest

from personas import call


def insert_venue(conn, org, user, **fields):
    fields = {"name": "Hall", **fields}
    cols = ", ".join(fields)
    marks = ", ".join(["%s"] * len(fields))
    return call(conn, user, f"insert into venues (org_id, {cols}) values (%s, {marks}) returning id",
                (org, *fields.values()))


def insert_show(conn, org, user, **fields):
    fields = {"date": "2027-06-01", **fields}
    cols = ", ".join(fields)
    marks = ", ".join(["%s"] * len(fields))
    return call(conn, user, f"insert into shows (org_id, {cols}) values (%s, {marks}) returning id",
                (org, *fields.values()))


@pytest.mark.parametrize(("fields", "message"), [
    ({"timezone": "Mars/Base"}, 'timezone "Mars/Base" is not an IANA time zone'),
    ({"timezone": "EST5EDT+1"}, 'timezone "EST5EDT\\+1" is not an IANA time zone'),
    ({"capacity": -1}, r"capacity must be >= 0 \(got -1\)"),
    ({"country": "de"}, 'country "de" must be an ISO 3166 alpha-2 code in upper case'),
    ({"name": " "}, "venue name must not be empty"),
    ({"contacts": json.dumps({"name": "x"})}, "contacts must be a JSON array"),
])
def test_venue_errors(conn, new_org, fields, message):
    org, owner = new_org
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        insert_venue(conn, org, owner, **fields)


def test_good_venue_with_accents(conn, new_org):
    org, owner = new_org
    assert insert_venue(conn, org, owner, name="Klub Łódź", city="Łódź", country="PL", timezone="Europe/Warsaw",
                        capacity=0)


@pytest.mark.parametrize(("fields", "message"), [
    ({"capacity": -5}, r"capacity must be >= 0"),
    ({"currency": "eur"}, 'currency "eur" must be an ISO 4217 code'),
    ({"promoter_email": "not-an-email"}, 'promoter_email "not-an-email" is not an e-mail address'),
    ({"hold_rank": 0}, "hold_rank must be >= 1"),
    ({"doors_at": "2027-06-01T20:00:00Z", "set_time_at": "2027-06-01T19:00:00Z"},
     "set_time_at .* must not be before doors_at"),
    ({"load_in_at": "2027-06-01T20:00:00Z", "curfew_at": "2027-06-01T19:00:00Z"},
     "curfew_at .* must not be before load_in_at"),
    ({"schedule": json.dumps([{"at": "2027-06-01T20:00:00Z"}])}, 'must be an object with a text "label"'),
    ({"schedule": json.dumps([{"label": "Doors", "at": "8pm"}])}, 'schedule item "Doors": at "8pm" must be an ISO 8601'),
    ({"schedule": json.dumps([{"label": "Doors", "at": "2027-06-01T20:00:00"}])}, "must be an ISO 8601 time with offset"),
])
def test_show_errors(conn, new_org, fields, message):
    org, owner = new_org
    with pytest.raises(psycopg.errors.CheckViolation, match=message):
        insert_show(conn, org, owner, **fields)


def test_show_status_enum_and_external_ref_unique_per_org(conn, new_org):
    org, owner = new_org
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="show_status"):
        insert_show(conn, org, owner, status="maybe")
    insert_show(conn, org, owner, external_ref="tour-1")
    with pytest.raises(psycopg.errors.UniqueViolation, match="shows_org_external_ref_key"):
        insert_show(conn, org, owner, external_ref="tour-1")


def test_show_venue_must_belong_to_the_same_org(conn, new_org, world):
    org, owner = new_org
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="shows_venue_fkey"):
        insert_show(conn, org, owner, venue_id=world.venue)


def test_deleting_a_venue_keeps_its_shows(conn, new_org):
    org, owner = new_org
    venue = insert_venue(conn, org, owner)[0]
    show = insert_show(conn, org, owner, venue_id=venue)[0]
    call(conn, owner, "delete from venues where id = %s", (venue,))
    assert conn.execute("select venue_id is null, org_id::text = %s from shows where id = %s",
                        (org, show)).fetchone() == (True, True)
