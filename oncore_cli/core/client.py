"""The connection to a Supabase project (hosted or `oncore local`).

A small standard-library HTTP client (core/http.py) for REST, RPC and token refresh keeps ordinary commands fast
(supabase-py's clients cost about half a second to import, httpx alone 100 ms); supabase_auth's GoTrue client is
built only for the login flows. Tokens come from, in order:
ONCORE_SERVICE_ROLE_KEY (CI seeding only), ONCORE_ACCESS_TOKEN, then the profile's stored session, which is
refreshed silently when it is about to expire.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from oncore_cli.core.errors import NotLoggedIn, UsageError, from_postgrest

if TYPE_CHECKING:
    from oncore_cli.core.config import Settings
    from oncore_cli.core.credentials import CredentialStore, Session
    from oncore_cli.core.http import Client, Response

REFRESH_MARGIN_SECONDS = 60
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_DELAYS = (0.2, 0.5, 1.0)
PAGE_SIZE = 1000
NO_SERVER = "no server configured: run oncore login --local, or oncore login --url URL --anon-key KEY"


class Api:
    def __init__(self, settings: Settings, credentials: CredentialStore) -> None:
        self.settings = settings
        self.credentials = credentials
        self._http: Client | None = None
        self._session: Session | None = None
        self._loaded = False

    # -- configuration ---------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if not self.settings.url:
            raise UsageError(missing_setting("ONCORE_URL", "ONCORE_ANON_KEY", self.settings.anon_key))
        if not self.settings.url.startswith(("http://", "https://")):
            from oncore_cli.core.config import ENV_URL, env

            source = "ONCORE_URL" if env(ENV_URL) else f"profile {self.settings.profile}'s URL"
            raise UsageError(f"bad server URL {self.settings.url!r} ({source}): it must start with https:// "
                             f"(or http:// for a local stack), e.g. http://{self.settings.url.split('/')[0]}")
        return self.settings.url

    @property
    def anon_key(self) -> str:
        key = self.settings.service_role_key or self.settings.anon_key
        if not key:
            raise UsageError(missing_setting("ONCORE_ANON_KEY", "ONCORE_URL", self.settings.url))
        return key

    @property
    def http(self) -> Client:
        if self._http is None:
            from oncore_cli.core.http import Client

            self._http = Client()
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # -- tokens ------------------------------------------------------------------------------------------
    def session(self) -> Session | None:
        if not self._loaded:
            self._loaded = True
            self._session = self.credentials.get(self.settings.profile)
        return self._session

    def access_token(self) -> str:
        """A token that is valid now; raises NotLoggedIn when there is none and it cannot be refreshed."""
        if self.settings.url or self.settings.anon_key:
            _ = self.url, self.anon_key  # a half-set or malformed server setting is the first thing to fix
        if self.settings.service_role_key:
            return self.settings.service_role_key
        if self.settings.access_token:
            check_access_token(self.settings.access_token)
            return self.settings.access_token
        session = self.session()
        if session is None:
            from oncore_cli.core.config import DEFAULT_PROFILE

            if self.settings.profile != DEFAULT_PROFILE:
                raise NotLoggedIn(f"not logged in (profile {self.settings.profile}): run oncore login --profile "
                                  f"{self.settings.profile}, or oncore signup for a new account")
            raise NotLoggedIn("not logged in: run oncore login, or oncore signup for a new account")
        if session.expires_within(REFRESH_MARGIN_SECONDS):
            session = self.refresh()
        return session.access_token

    def refresh(self) -> Session:
        """Trade the refresh token for a new pair and store it.

        Refresh tokens are single-use, so two oncore processes refreshing at once (parallel CI jobs) would spend
        the same token twice. A lock file serialises them; whoever comes second finds the pair the first stored."""
        current = self.session()
        if current is None or not current.refresh_token:
            raise NotLoggedIn()
        with self.credentials.lock(self.settings.profile):
            stored = self.credentials.get(self.settings.profile)
            if stored and stored.refresh_token != current.refresh_token \
                    and not stored.expires_within(REFRESH_MARGIN_SECONDS):
                self._session = stored
                return stored
            latest = stored or current
            if not latest.refresh_token:
                raise NotLoggedIn()
            response = self._send("POST", "/auth/v1/token", params={"grant_type": "refresh_token"},
                                  json={"refresh_token": latest.refresh_token}, token=self.anon_key, retry=False)
            if response.status_code >= 400:
                if response.status_code >= 500:
                    raise from_postgrest(response.status_code, _json_or_none(response))
                raise NotLoggedIn()
            session = session_from_payload(response.json(), fallback=latest)
            self.credentials.set(self.settings.profile, session)
        self._session = session
        return session

    def use(self, session: Session) -> None:
        """Make requests with `session` without storing it (stored once what it is for has worked)."""
        self._session, self._loaded = session, True

    def store(self, session: Session) -> None:
        self.credentials.set(self.settings.profile, session)
        self._session, self._loaded = session, True

    # -- HTTP ------------------------------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, token: str, params=None, json=None, content=None,
              headers: dict | None = None, retry: bool = True, sink=None) -> Response:
        from oncore_cli.core.http import TransportError

        method = method.upper()
        all_headers = {"apikey": self.anon_key, "Authorization": f"Bearer {token}", **(headers or {})}
        attempts = len(RETRY_DELAYS) + 1 if retry and method in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                response = self.http.request(method, self.url + path, params=params, json=json, content=content,
                                             headers=all_headers, sink=sink)
            except TransportError:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(RETRY_DELAYS[attempt])
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                time.sleep(_retry_after(response, RETRY_DELAYS[attempt]))
                continue
            return response
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, *, params=None, json=None, content=None,
                headers: dict | None = None, authenticated: bool = True, sink=None) -> Response:
        """One call with the current credentials; an expired token is refreshed once and the call repeated."""
        token = self.access_token() if authenticated else self.anon_key
        response = self._send(method, path, token=token, params=params, json=json, content=content, headers=headers,
                              sink=sink)
        if response.status_code == 401 and authenticated and self._can_refresh():
            token = self.refresh().access_token
            response = self._send(method, path, token=token, params=params, json=json, content=content,
                                  headers=headers, sink=sink)
        return response

    def _can_refresh(self) -> bool:
        if self.settings.service_role_key or self.settings.access_token:
            return False
        session = self.session()
        return bool(session and session.refresh_token)

    def call(self, method: str, path: str, **kwargs) -> Any:
        """Like request(), but returns the decoded JSON and raises a typed error for 4xx/5xx answers."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise from_postgrest(response.status_code, _json_or_none(response))
        if not response.content:
            return None
        return response.json()

    # -- PostgREST ----------------------------------------------------------------------------------------
    def select(self, table: str, params: dict | list | None = None, page_size: int = PAGE_SIZE) -> list[dict]:
        """All matching rows. Hosted PostgREST caps an answer (max_rows, 1000 by default), so without an explicit
        limit the rows are read page by page."""
        items = list(params.items()) if isinstance(params, dict) else list(params or [])
        if any(key in ("limit", "offset") for key, _ in items):
            return self.call("GET", f"/rest/v1/{table}", params=items) or []
        rows: list[dict] = []
        while True:
            page = self.call("GET", f"/rest/v1/{table}",
                             params=[*items, ("limit", str(page_size)), ("offset", str(len(rows)))]) or []
            rows += page
            if len(page) < page_size:
                return rows

    def insert(self, table: str, row: dict, select: str = "*") -> dict:
        rows = self.call("POST", f"/rest/v1/{table}", params={"select": select}, json=row,
                         headers={"Prefer": "return=representation"})
        return rows[0]

    def update(self, table: str, filters: dict, values: dict, select: str = "*") -> list[dict]:
        return self.call("PATCH", f"/rest/v1/{table}", params={**filters, "select": select}, json=values,
                         headers={"Prefer": "return=representation"}) or []

    def delete(self, table: str, filters: dict, select: str = "*") -> list[dict]:
        return self.call("DELETE", f"/rest/v1/{table}", params={**filters, "select": select},
                         headers={"Prefer": "return=representation"}) or []

    def rpc(self, name: str, args: dict) -> Any:
        return self.call("POST", f"/rest/v1/rpc/{name}", json=args)

    # -- Edge functions ------------------------------------------------------------------------------------
    def invoke(self, name: str, body: dict) -> Any:
        """POST a JSON body to the edge function `name` as the signed-in user (supabase-js `functions.invoke`);
        its JSON answer, or a typed error carrying the function's `error` text."""
        response = self.request("POST", f"/functions/v1/{name}", json=body)
        data = _json_or_none(response)
        if response.status_code >= 400:
            if not isinstance(data, dict):
                data = {"message": f"function {name}: {response.text.strip() or response.status_code}"}
            raise from_postgrest(response.status_code, data)
        return data

    # -- GoTrue (login flows only) ----------------------------------------------------------------------
    def gotrue(self):
        from supabase_auth import SyncGoTrueClient

        key = self.anon_key
        return SyncGoTrueClient(url=f"{self.url}/auth/v1", headers={"apikey": key, "Authorization": f"Bearer {key}"},
                                auto_refresh_token=False, persist_session=False)


def _json_or_none(response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response, default: float) -> float:
    try:
        return min(float(response.headers.get("retry-after", default)), 5.0)
    except ValueError:
        return default


def missing_setting(name: str, other: str, other_value: str | None) -> str:
    """Which part of the server settings is missing, named as the user would set it."""
    from oncore_cli.core.config import env

    if other_value and env(other):
        return f"{other} is set but {name} is not: set both (oncore local status --env prints them for a local stack)"
    return NO_SERVER


def check_access_token(token: str) -> None:
    """ONCORE_ACCESS_TOKEN must be a JWT that has not expired; say which, rather than "not logged in"."""
    import base64
    import json

    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        expires = payload.get("exp") if isinstance(payload, dict) else None
    except (ValueError, UnicodeDecodeError):
        raise NotLoggedIn("ONCORE_ACCESS_TOKEN is malformed (not a JWT): set it to the output of oncore auth token, "
                          "or unset it to use your login") from None
    if isinstance(expires, (int, float)) and expires <= time.time():
        import datetime as dt

        when = dt.datetime.fromtimestamp(expires, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        raise NotLoggedIn(f"ONCORE_ACCESS_TOKEN expired at {when}: set a fresh one (oncore auth token on a "
                          "logged-in machine), or unset it to use your login")


def session_from_payload(payload: dict, fallback: Session | None = None) -> Session:
    """A GoTrue session answer (dict or supabase_auth model dump) as what we store."""
    from oncore_cli.core.credentials import Session

    user = payload.get("user") or {}
    expires_at = payload.get("expires_at") or (int(time.time()) + int(payload.get("expires_in") or 3600))
    return Session(access_token=payload["access_token"], refresh_token=payload.get("refresh_token"),
                   expires_at=int(expires_at), user_id=user.get("id") or (fallback.user_id if fallback else None),
                   email=user.get("email") or (fallback.email if fallback else None))
