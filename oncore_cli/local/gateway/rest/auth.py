"""Who the request runs as: the verified JWT's `role` claim, or `anon` without a token (PostgREST `Auth/Jwt.hs`).

Verified tokens are cached by their exact text (the signature was checked once); expiry is re-checked on every hit."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass

from oncore_cli.local.gateway.jwt import LEEWAY_SECONDS, JWTError, decode
from oncore_cli.local.gateway.rest.errors import jwt_error

ANON_ROLE = "anon"
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Identity:
    role: str
    claims_json: str        # the full payload, as `request.jwt.claims` carries it

    @property
    def anonymous(self) -> bool:
        return self.role == ANON_ROLE


_ANONYMOUS = Identity(ANON_ROLE, json.dumps({"role": ANON_ROLE}))


class Authenticator:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._verified: OrderedDict[str, tuple[Identity, float | None]] = OrderedDict()

    def identify(self, authorization: str | None) -> Identity:
        if authorization is None:
            return _ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            raise jwt_error("Missing authorization header: expected a Bearer token")
        token = token.strip()
        hit = self._verified.get(token)
        if hit is not None:
            identity, exp = hit
            if exp is not None and time.time() > exp + LEEWAY_SECONDS:
                self._verified.pop(token, None)
                raise jwt_error("JWT expired", claims=True)
            return identity
        try:
            claims = decode(token, self.secret)
        except JWTError as e:
            raise jwt_error(e.reason, claims=e.expired) from None
        role = claims.get("role", ANON_ROLE)
        if not isinstance(role, str) or not role:
            raise jwt_error("JWT claim 'role' must be a string", claims=True)
        exp = claims.get("exp")
        identity = Identity(role, json.dumps({**claims, "role": role}, separators=(",", ":")))
        self._verified[token] = (identity, float(exp) if isinstance(exp, (int, float)) else None)
        if len(self._verified) > _CACHE_SIZE:
            self._verified.popitem(last=False)
        return identity
