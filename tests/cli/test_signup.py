"""Getting an account: oncore signup, and errors that say how to get one (everyday CLI, item 2)."""

from __future__ import annotations

from tests.cli.conftest import PASSWORD, one_line_error


def test_signup_creates_the_account_and_logs_in(oncore_process, stack, unique):
    email = f"new-{unique}@example.com"
    created = oncore_process("signup", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", email,
                             "--password-stdin", input=PASSWORD + "\n")
    assert created.exit_code == 0, created
    assert f"as {email}" in created.stderr
    assert oncore_process("whoami", "--json").json["email"] == email
    again = oncore_process("signup", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", email,
                           "--password-stdin", input=PASSWORD + "\n")
    one_line_error(again, 5, "exists already", "oncore login")


def test_login_and_otp_for_an_unknown_address_point_to_signup(oncore, stack, unique):
    server = ("--url", stack.api_url, "--anon-key", stack.anon_key)
    one_line_error(oncore("login", *server, "--email", f"nobody-{unique}@example.com", "--password-stdin",
                          input="whatever1\n"), 4, "no such account", "oncore signup")
    one_line_error(oncore("login", *server, "--email", f"nobody-{unique}@example.com", "--otp"), 4,
                   "no account with that e-mail address", "oncore signup")


def test_signup_without_a_password_on_a_pipe_is_a_usage_error(oncore, stack, unique):
    one_line_error(oncore("signup", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email",
                          f"x-{unique}@example.com"), 2, "--password-stdin")


def test_adding_an_unknown_address_invites_it_and_says_how_that_person_gets_an_account(oncore, org, unique):
    result = oncore("members", "add", f"pm-{unique}@example.com")
    assert result.exit_code == 0, result
    assert f"oncore signup --email pm-{unique}@example.com" in result.stderr, result
    assert f"oncore orgs accept {org['slug']}" in result.stderr, result
