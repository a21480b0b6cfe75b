"""`advancing join CODE`: the venue side signs in anonymously, claims the access code, and keeps that guest session
in a profile of its own. Nothing is stored unless the claim succeeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from oncore_cli.core.errors import AuthError, ConflictError, NotFoundError, NotLoggedIn, OncoreError, UsageError

if TYPE_CHECKING:
    from oncore_cli.core.context import App


@dataclass
class JoinOptions:
    code: str
    url: str | None
    anon_key: str | None
    local: bool
    json: bool


class CodeThrottled(OncoreError):
    exit_code = 1


def run_join(opts: JoinOptions, app_: App) -> None:
    from oncore_cli.commands.auth import LoginOptions, _server
    from oncore_cli.core import config as cfg
    from oncore_cli.core.client import Api, session_from_payload
    from oncore_cli.services.advancing import normalise_code

    code = normalise_code(opts.code)
    profile_name = app_.profile_flag or f"venue-{code[:4].lower()}"
    config = app_.config
    stored = config.profiles.get(profile_name)
    # The server: --url/--local, else the venue profile's own (a re-join), else the profile in use.
    base = cfg.resolve(config, profile=profile_name if stored and stored.url else None)
    url, key = _server(LoginOptions(None, False, False, opts.url or base.url, opts.anon_key or base.anon_key,
                                    opts.local), app_)
    settings = cfg.Settings(profile=profile_name, url=url, anon_key=key, org=None, access_token=None,
                            service_role_key=None)
    api = Api(settings, app_.credentials)
    try:
        # A re-join (after a rotation) keeps the profile's anonymous user, so its wrong attempts stay counted.
        session = app_.credentials.get(profile_name) if stored and stored.url == url else None
        held = session or (app_.credentials.get(profile_name) if stored else None)
        if held is not None and held.email:
            raise UsageError(f"profile {profile_name} is logged in as {held.email}: join with another --profile "
                             "(a venue guest never replaces an account's login)")
        try:
            if session is None:
                raise NotLoggedIn()
            api.use(session)
            claimed = _claim(api, code)
        except NotLoggedIn:  # a new guest, or one whose guest session ended: sign in anew
            with app_.output.status("Signing in as a guest"):
                response = api.gotrue().sign_in_anonymously()
            api.use(session_from_payload(response.session.model_dump(mode="json")))
            claimed = _claim(api, code)
        # Only now is anything written: the profile, then the guest's tokens.
        config.profiles[profile_name] = cfg.Profile(profile_name, url=url, anon_key=key)
        app_.save_config()
        app_.credentials.set(profile_name, api.session())
    finally:
        api.close()
    if opts.json or app_.fmt == "json":
        app_.output.with_format(None, True).json({**claimed, "profile": profile_name})
        return
    app_.output.raw(claimed["session_id"])
    app_.output.message(f"Joined advancing session {claimed['session_id'][:8]} as a venue guest until "
                        f"{claimed['expires_at'][:16].replace('T', ' ')} UTC (profile {profile_name}).")
    app_.output.message(f"Next: oncore --profile {profile_name} advancing show {claimed['session_id'][:8]}")


def _claim(api, code: str) -> dict:
    from oncore_cli.services.advancing import AdvancingService

    try:
        return AdvancingService(api).claim(code)
    except OncoreError as e:
        raise _claim_error(e) from None


def _claim_error(e: OncoreError) -> OncoreError:
    text = e.message.lower()
    if "too many attempts" in text:
        return CodeThrottled("too many wrong access codes: wait a minute, then check the code and try again")
    if "rotated" in text or "replaced" in text:
        return ConflictError("this access code was replaced by a newer one: ask the tour for the current code")
    if "expired" in text:
        return AuthError("this access code has expired: ask the tour for a new one")
    if isinstance(e, NotFoundError) or "not valid" in text:
        return NotFoundError("wrong access code: check it with the tour (letters and digits, e.g. ABCD-EFGH-JKMN)")
    return e
