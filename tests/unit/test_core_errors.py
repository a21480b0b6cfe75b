import httpx
import pytest

from oncore_cli.core import errors


@pytest.mark.parametrize("status,body,cls,code", [
    (403, {"code": "42501", "message": "new row violates row-level security policy"}, errors.AuthError, 4),
    (409, {"code": "23505", "message": "duplicate key", "details": "Key (slug)=(x) exists"}, errors.ConflictError, 5),
    (400, {"code": "22P02", "message": "invalid input syntax for type uuid"}, errors.UsageError, 2),
    (400, {"code": "23514", "message": "capacity must be >= 0"}, errors.UsageError, 2),
    (401, {"code": "PGRST301", "message": "JWT expired"}, errors.NotLoggedIn, 4),
    (404, {"code": "PGRST205", "message": "no table"}, errors.NotFoundError, 3),
    (403, {"code": "session_not_found", "message": "gone"}, errors.NotLoggedIn, 4),
    (503, {"message": "down"}, errors.OncoreError, 1),
    (500, None, errors.OncoreError, 1),
])
def test_from_postgrest(status, body, cls, code):
    err = errors.from_postgrest(status, body)
    assert type(err) is cls and err.exit_code == code


def test_conflict_message_carries_details():
    err = errors.from_postgrest(409, {"code": "23505", "message": "duplicate key", "details": "Key (slug)=(x)"})
    assert err.message == "duplicate key (Key (slug)=(x))"


def test_describe_connection_error_names_the_server():
    request = httpx.Request("GET", "http://127.0.0.1:1/rest/v1/shows?select=*")
    message, code = errors.describe(httpx.ConnectError("refused", request=request))
    assert (message, code) == ("cannot reach http://127.0.0.1:1: is the local stack running? try oncore local start", 1)
    remote = httpx.Request("GET", "https://abc.supabase.co/rest/v1/shows")
    assert "check the URL" in errors.describe(httpx.ConnectError("x", request=remote))[0]


def test_unexpected_errors_name_the_debug_switch():
    message, code = errors.describe(RuntimeError("boom"))
    assert code == 1 and "ONCORE_DEBUG=1" in message


def test_report_prints_one_line(capsys, monkeypatch):
    monkeypatch.delenv("ONCORE_DEBUG", raising=False)
    assert errors.report(errors.NotFoundError("show 'x' not found")) == 3
    assert capsys.readouterr().err == "oncore: show 'x' not found\n"
