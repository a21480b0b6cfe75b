"""GoTrue's rate limits, as the project's `supabase/config.toml` sets them (`[auth.rate_limit]`, `[auth.email]
max_frequency`; the supabase CLI's defaults when absent), enforced the way GoTrue enforces them
(internal/api/apilimiter, internal/ratelimit, mail.go):

- per client IP, a token bucket per endpoint group (tollbooth over x/time/rate: it starts full, holds `burst`
  requests and refills at the configured count per window): anonymous sign-ins `anonymous_users` an hour (burst the
  same); sign-ups, /otp, /magiclink, /recover, /resend and PUT /user `sign_in_sign_ups` per 5 minutes, /token
  `token_refresh` per 5 minutes and /verify `token_verifications` per 5 minutes (burst 30 each) → 429
  `over_request_rate_limit`;
- per user, one mail of a kind per `max_frequency` → 429 `over_email_send_rate_limit`; `email_sent` mails an hour in
  all, which GoTrue applies only when addresses need confirming (not with autoconfirm, this project's setting);
- per code, MAX_CODE_GUESSES wrong codes for one address end that address's pending codes (GoTrue leaves this to
  the /verify bucket; a 6-digit code would otherwise stand about 18 000 guesses an hour from one address).
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from starlette.requests import Request

from oncore_cli.local.gateway.auth.errors import AuthError

MAX_CODE_GUESSES = 5
_BURST = 30  # GoTrue's burst for every per-5-minute limiter
_KEYS_KEPT = 10_000  # idle buckets are dropped beyond this many client addresses


@dataclass(frozen=True)
class RateLimits:
    """The settings, named as in config.toml (the supabase CLI template's defaults)."""
    email_sent: float = 2              # mails an hour, all users together
    anonymous_users: float = 30        # anonymous sign-ins an hour per IP
    token_refresh: float = 150         # /token requests per 5 minutes per IP
    sign_in_sign_ups: float = 30       # sign-ups and mail-sending requests per 5 minutes per IP
    token_verifications: float = 30    # /verify requests per 5 minutes per IP
    max_frequency: float = 1.0         # seconds between two mails of a kind to one user ([auth.email])

    @classmethod
    def load(cls, config_toml: Path, overrides: dict[str, Any] | None = None) -> "RateLimits":
        """config.toml's values over the defaults, then `overrides` (the gateway config's `rate_limits`)."""
        values: dict[str, Any] = {}
        try:
            with open(config_toml, "rb") as f:
                auth = tomllib.load(f).get("auth", {})
        except FileNotFoundError:
            auth = {}
        values.update({k: v for k, v in auth.get("rate_limit", {}).items() if k in _NAMES})
        if "max_frequency" in auth.get("email", {}):
            values["max_frequency"] = auth["email"]["max_frequency"]
        values.update({k: v for k, v in (overrides or {}).items() if k in _NAMES})
        if isinstance(values.get("max_frequency"), str):
            values["max_frequency"] = go_duration(values["max_frequency"])
        return replace(cls(), **{k: float(v) for k, v in values.items()})


_NAMES = {f.name for f in fields(RateLimits)}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def go_duration(text: str) -> float:
    """Seconds in a Go duration ("1s", "1m30s", "500ms"), as config.toml writes max_frequency."""
    text = text.strip()
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"invalid duration {text!r} in supabase/config.toml")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


class Bucket:
    """A token bucket per key: `burst` requests at once, refilled at `per_second`."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self._state: dict[str, tuple[float, float]] = {}  # key → (tokens, when)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        tokens, when = self._state.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - when) * self.per_second)
        allowed = tokens >= 1
        self._state[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._state) > _KEYS_KEPT:
            self._forget_full(now)
        return allowed

    def _forget_full(self, now: float) -> None:
        full = [k for k, (tokens, when) in self._state.items()
                if tokens + (now - when) * self.per_second >= self.burst]
        for key in full:
            del self._state[key]


class Interval:
    """GoTrue's IntervalLimiter: `events` per fixed window of `seconds`, counted over all callers."""

    def __init__(self, events: float, seconds: float) -> None:
        self.events = int(events)
        self.seconds = seconds
        self._start = time.monotonic()
        self._count = 0

    def allow(self) -> bool:
        now = time.monotonic()
        if now - self._start >= self.seconds:
            self._start += (now - self._start) // self.seconds * self.seconds
            self._count = 0
        if self._count < self.events:
            self._count += 1
            return True
        return False


class AuthLimits:
    """The gateway's limiters (one set per process, as GoTrue holds them in memory)."""

    def __init__(self, settings: RateLimits) -> None:
        self.settings = settings
        per_5m = 5 * 60
        self.buckets = {
            "anonymous": Bucket(settings.anonymous_users / 3600, int(settings.anonymous_users)),
            "token": Bucket(settings.token_refresh / per_5m, _BURST),
            "verify": Bucket(settings.token_verifications / per_5m, _BURST),
            **{name: Bucket(settings.sign_in_sign_ups / per_5m, _BURST)
               for name in ("signup", "otp", "magiclink", "recover", "resend", "user")},
        }
        self.emails = Interval(settings.email_sent, 3600)
        self._wrong_codes: dict[str, int] = {}

    def check(self, request: Request, name: str) -> None:
        """429 over_request_rate_limit once the caller's address has used up `name`'s bucket."""
        client = request.client.host if request.client else ""
        if not self.buckets[name].allow(client):
            raise AuthError(429, "over_request_rate_limit", "Request rate limit reached")

    def check_mail(self, sent_at, now, autoconfirm: bool) -> None:
        """Before a mail of a kind whose previous one left at `sent_at`: max_frequency per user, email_sent in all."""
        if sent_at is not None and self.settings.max_frequency > 0:
            left = (sent_at - now).total_seconds() + self.settings.max_frequency
            if left > 0:
                raise AuthError(429, "over_email_send_rate_limit",
                                f"For security purposes, you can only request this after {int(left)} seconds.")
        if not autoconfirm and not self.emails.allow():
            raise AuthError(429, "over_email_send_rate_limit", "email rate limit exceeded")

    def wrong_code(self, user_id) -> bool:
        """Count a wrong code typed for `user_id`; True when that used up the guesses (the codes must go)."""
        key = str(user_id)
        self._wrong_codes[key] = self._wrong_codes.get(key, 0) + 1
        if self._wrong_codes[key] >= MAX_CODE_GUESSES:
            del self._wrong_codes[key]
            return True
        return False

    def new_code(self, user_id) -> None:
        """A fresh code (or a used one) starts the count again."""
        self._wrong_codes.pop(str(user_id), None)


def limits_of(request: Request) -> AuthLimits:
    return request.app.state.auth_limits


def check(request: Request, name: str) -> None:
    limits_of(request).check(request, name)
