import json

import pytest

from oncore_cli.core.errors import UsageError
from oncore_cli.core.output import Column, Output

ROWS = [{"id": "1", "name": "Lido", "contacts": [{"role": "pm"}], "city": None},
        {"id": "2", "name": "Multi\nline", "contacts": [], "city": "Berlin"}]
COLUMNS = [Column("name", "Name"), Column("city", "City")]


@pytest.fixture
def piped(monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "0")
    monkeypatch.setenv("NO_COLOR", "1")


def test_piped_default_is_tsv(piped, capsys):
    Output().rows(ROWS, COLUMNS)
    assert capsys.readouterr().out == "Lido\t\nMulti line\tBerlin\n"


def test_terminal_default_is_a_table(monkeypatch, capsys):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")
    Output().rows(ROWS, COLUMNS)
    out = capsys.readouterr().out
    assert "NAME" in out and "CITY" in out and "Berlin" in out


def test_machine_formats(piped, capsys):
    Output("json").rows(ROWS, COLUMNS)
    assert json.loads(capsys.readouterr().out) == ROWS
    Output("ndjson").rows(ROWS, COLUMNS)
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == ROWS
    Output("csv").rows(ROWS, COLUMNS)
    assert capsys.readouterr().out.splitlines()[:2] == ["id,name,contacts,city", '1,Lido,"[{""role"": ""pm""}]",']


def test_empty_lists_say_so_on_stderr(piped, capsys):
    Output().rows([], COLUMNS, empty="no venues found")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "no venues found\n"
    Output("json").rows([], COLUMNS)
    assert capsys.readouterr().out == "[]\n"


def test_markup_in_data_is_printed_literally(monkeypatch, capsys):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    Output().rows([{"name": "[bold]Rock[/bold] :smile:", "city": "x"}], COLUMNS)
    assert "[bold]Rock[/bold] :smile:" in capsys.readouterr().out


def test_quiet_and_formats(piped, capsys):
    Output(quiet=True).message("hidden")
    assert capsys.readouterr().err == ""
    assert Output("table").with_format(None, json_flag=True).format == "json"
    with pytest.raises(UsageError, match="--json and --format csv exclude each other"):
        Output("json").with_format("csv")  # a global --json and a command's -o csv: refused, not silently JSON
    assert Output("csv").with_format("tsv").format == "tsv"  # the command's format beats the global one
    with pytest.raises(UsageError, match="unknown format 'xml'"):
        Output().with_format("xml")


def test_styles_only_with_colour(monkeypatch, capsys):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    styled = [Column("name", "Name", style=lambda r: "green")]
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    Output().rows([{"name": "Lido"}], styled)
    assert "\x1b[32mLido" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    Output().rows([{"name": "Lido"}], styled)
    assert "\x1b[32m" not in capsys.readouterr().out
