"""HS256 JSON Web Tokens, as GoTrue issues them and PostgREST verifies them."""

from __future__ import annotations

import time
from typing import Any

import jwt as pyjwt

LEEWAY_SECONDS = 30  # PostgREST's clock-skew allowance


class JWTError(Exception):
    """A token that must be refused; `reason` is PostgREST's wording ("JWT expired", ...)."""

    def __init__(self, reason: str, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def encode(claims: dict[str, Any], secret: str) -> str:
    return pyjwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"})


def decode(token: str, secret: str, *, verify_exp: bool = True) -> dict[str, Any]:
    """Verify signature (HS256 only: `alg: none` and other algorithms are refused) and expiry."""
    if not token:
        raise JWTError("Empty JWT is sent in Authorization header")
    if token.count(".") != 2:
        raise JWTError(f"Expected 3 parts in JWT; got {token.count('.') + 1}")
    try:
        return pyjwt.decode(
            token, secret, algorithms=["HS256"], leeway=LEEWAY_SECONDS,
            options={"verify_aud": False, "verify_exp": verify_exp, "require": []},
        )
    except pyjwt.ExpiredSignatureError as e:
        raise JWTError("JWT expired", expired=True) from e
    except pyjwt.InvalidAlgorithmError as e:
        raise JWTError("No suitable key or wrong key type") from e
    except pyjwt.InvalidSignatureError as e:
        raise JWTError("JWT cryptographic operation failed") from e
    except pyjwt.ImmatureSignatureError as e:
        raise JWTError("JWT not yet valid") from e
    except pyjwt.PyJWTError as e:
        raise JWTError("JWT cryptographic operation failed") from e


def api_key(role: str, secret: str, issued_at: int | None = None) -> str:
    """A long-lived project key (anon / service_role), shaped like the supabase CLI's demo keys."""
    iat = issued_at or int(time.time())
    return encode({"iss": "supabase-demo", "role": role, "iat": iat, "exp": iat + 10 * 365 * 24 * 3600}, secret)


class VerifiedTokens:
    """Tokens whose signature was already checked, remembered until they expire: a client sends the same token on
    every call, and verifying it again costs about as much as relaying a warm function call. Bounded: when full,
    it starts over."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._until: dict[tuple[str, str], float] = {}

    def check(self, token: str, secret: str) -> None:
        """Raise JWTError unless `token` is validly signed with `secret` and not expired (with LEEWAY_SECONDS)."""
        until = self._until.get((token, secret))
        if until is not None and time.time() < until:
            return
        exp = decode(token, secret).get("exp")
        if len(self._until) >= self.size:
            self._until.clear()
        self._until[(token, secret)] = exp + LEEWAY_SECONDS if isinstance(exp, (int, float)) else float("inf")
