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
            raise UsageError(NO_SERVER)
        return self.settings.url

    @property
    def anon_key(self) -> str:
        key = self.settings.service_role_key or self.settings.anon_key
        if not key:
            raise UsageError(NO_SERVER)
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
        if self.settings.service_role_key:
            return self.settings.service_role_key
        if self.settings.access_token:
            return self.settings.access_token
        session = self.session()
        if session is None:
            raise NotLoggedIn()
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
              headers: dict | None = None, retry: bool = True) -> Response:
        from oncore_cli.core.http import TransportError

        method = method.upper()
        all_headers = {"apikey": self.anon_key, "Authorization": f"Bearer {token}", **(headers or {})}
        attempts = len(RETRY_DELAYS) + 1 if retry and method in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                response = self.http.request(method, self.url + path, params=params, json=json, content=content,
                                             headers=all_headers)
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
                headers: dict | None = None, authenticated: bool = True) -> Response:
        """One call with the current credentials; an expired token is refreshed once and the call repeated."""
        token = self.access_token() if authenticated else self.anon_key
        response = self._send(method, path, token=token, params=params, json=json, content=content, headers=headers)
        if response.status_code == 401 and authenticated and self._can_refresh():
            token = self.refresh().access_token
            response = self._send(method, path, token=token, params=params, json=json, content=content,
                                  headers=headers)
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


def session_from_payload(payload: dict, fallback: Session | None = None) -> Session:
    """A GoTrue session answer (dict or supabase_auth model dump) as what we store."""
    from oncore_cli.core.credentials import Session

    user = payload.get("user") or {}
    expires_at = payload.get("expires_at") or (int(time.time()) + int(payload.get("expires_in") or 3600))
    return Session(access_token=payload["access_token"], refresh_token=payload.get("refresh_token"),
                   expires_at=int(expires_at), user_id=user.get("id") or (fallback.user_id if fallback else None),
                   email=user.get("email") or (fallback.email if fallback else None))
