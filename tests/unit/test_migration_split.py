"""Migrations are split into statements exactly as the supabase CLI splits them (its pkg/parser test cases)."""

from __future__ import annotations

import pytest

from oncore_cli.local.migrate import cli_statements as split_statements

# (pieces as the CLI's state_test.go gives them; the split of their concatenation must be the pieces, trimmed)
CASES = [
    ["END;", "-- comment"], ["SELECT --; 1"], ["- ;", "END"], ["-- /* \n;", " */ END"],
    ["SELECT /* ; */ 1;"], ["SELECT /*; /*;*/ ;*/ 1"], ["/ * ;", " */ END"],
    [";", "END;", ";"], ["BEGIN   ;", "  END"], ["\\;;", "\\;"],
    ["$tag$ any ; string$tag$"], ["$$\"Dane's horse\"$$"], ["SELECT \"$\";", " $$"],
    ["SELECT ';' 1"], ["SELECT ';'';' 1"], ["SELECT '\\';", " 1'"],
    ['CREATE POLICY "cats;dogs" on cats_dogs;', " END"], ['CREATE POLICY "pet""name" on pets;', " END"],
    ["CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;", " SELECT 3"],
    ["create function g() returns int begin\n  atomic select 1; end;", "select (1;2)"],
]


@pytest.mark.parametrize("pieces", CASES)
def test_split_like_the_supabase_cli(pieces):
    expected = [p.rstrip(";").strip() for p in pieces if p.rstrip(";").strip()]
    assert split_statements("".join(pieces)) == expected


def test_dollar_quoted_function_bodies_stay_whole():
    sql = "create function f() returns void language plpgsql as $$\nbegin\n  perform 1; perform 2;\nend\n$$;\n" \
          "-- a comment; with a semicolon\nselect 1;\n"
    assert split_statements(sql) == [
        "create function f() returns void language plpgsql as $$\nbegin\n  perform 1; perform 2;\nend\n$$",
        "-- a comment; with a semicolon\nselect 1"]
