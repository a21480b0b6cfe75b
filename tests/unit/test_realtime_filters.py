"""postgres_changes filters and pgoutput values, without a server: parsing as Realtime parses, evaluation against
typed rows, and PostgreSQL's text output turned into what `to_jsonb` renders."""

from __future__ import annotations

import pytest

from oncore_cli.local.gateway.realtime import filters as flt
from oncore_cli.local.gateway.realtime.capture import TypeCatalog, _array, _timestamp


def test_parse_the_classic_operators_and_ands():
    assert flt.parse("guest_count=eq.15") == [flt.Filter("guest_count", "eq", "15")]
    assert flt.parse("status=in.(hold,confirmed)") == [flt.Filter("status", "in", "hold,confirmed")]
    assert flt.parse("id=gt.0,id=lt.100") == [flt.Filter("id", "gt", "0"), flt.Filter("id", "lt", "100")]
    assert flt.parse("") == [] and flt.parse("   ") == [] and flt.parse(None) == []


@pytest.mark.parametrize("text, reason", [
    ("subject=foo.hey", 'Error parsing `filter` params: ["foo", "hey"]'),
    ("undefined", 'Error parsing `filter` params: ["undefined"]'),
    ("status=in.hold", 'Error parsing `filter` params: ["in", "hold"]'),
])
def test_parse_errors_read_as_realtime_words_them(text, reason):
    with pytest.raises(flt.FilterError) as err:
        flt.parse(text)
    assert str(err.value) == reason


def _compiled(text: str):
    types = TypeCatalog()
    types.types = {23: ("int4", "N", 0), 25: ("text", "S", 0), 2950: ("uuid", "U", 0)}
    convert = {"n": types.converter(23), "s": types.converter(25), "u": types.converter(2950)}
    return flt.compile_filters(flt.parse(text), convert)


@pytest.mark.parametrize("text, hits", [
    ("n=eq.5", [5]), ("n=neq.5", [3, 7]), ("n=lt.5", [3]), ("n=lte.5", [3, 5]), ("n=gt.5", [7]),
    ("n=gte.5", [5, 7]), ("n=in.(3,7)", [3, 7]), ("n=gt.3,n=lt.7", [5]),
])
def test_each_operator_compares_typed_values(text, hits):
    compiled = _compiled(text)
    assert [n for n in (3, 5, 7) if flt.matches(compiled, {"n": n})] == hits


def test_missing_or_null_columns_never_match_and_uuids_ignore_case():
    compiled = _compiled("n=eq.5")
    assert not flt.matches(compiled, {"other": 5}) and not flt.matches(compiled, {"n": None})
    assert not flt.matches(compiled, None)
    upper = _compiled("u=eq.0A0B0C0D-0000-0000-0000-000000000000")
    assert flt.matches(upper, {"u": "0a0b0c0d-0000-0000-0000-000000000000"})
    assert flt.matches(_compiled('s=in.("a,b",c)'), {"s": "a,b"})


def test_unknown_columns_and_bad_values_are_refused():
    with pytest.raises(flt.FilterError, match="invalid column for filter nope"):
        _compiled("nope=eq.1")
    with pytest.raises(flt.FilterError, match="invalid input value"):
        _compiled("n=eq.many")


def test_text_output_becomes_jsonb_values():
    assert _timestamp("2026-12-01 10:00:00.123+00") == "2026-12-01T10:00:00.123+00:00"
    assert _timestamp("2026-12-01 10:00:00+05:30") == "2026-12-01T10:00:00+05:30"
    assert _array('{a,"b c",NULL,"q\\"x"}', str) == ["a", "b c", None, 'q"x']
    assert _array("{1,2}", int) == [1, 2] and _array("{}", int) == []
