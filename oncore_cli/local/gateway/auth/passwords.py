"""bcrypt, run in a worker thread so a 60-80 ms hash does not stall the event loop for other clients."""

from __future__ import annotations

import re

import bcrypt
from starlette.concurrency import run_in_threadpool

from oncore_cli.local.gateway.auth import policy
from oncore_cli.local.gateway.auth.errors import AuthError

_BCRYPT_HASH = re.compile(r"^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$")


def check_strength(password: str) -> None:
    if len(password.encode()) > policy.MAX_PASSWORD_BYTES:
        raise AuthError(422, "validation_failed", "Password cannot be longer than 72 characters")
    if len(password) < policy.MIN_PASSWORD_LENGTH:
        raise AuthError(422, "weak_password",
                        f"Password should be at least {policy.MIN_PASSWORD_LENGTH} characters.",
                        weak_password={"reasons": ["length"]})


async def hash_password(password: str) -> str:
    salt = bcrypt.gensalt(policy.BCRYPT_COST, prefix=b"2a")  # GoTrue (Go's bcrypt) writes $2a$
    hashed = await run_in_threadpool(bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


async def verify_password(password: str, hashed: str | None) -> bool:
    if not hashed or not is_bcrypt_hash(hashed) or len(password.encode()) > policy.MAX_PASSWORD_BYTES:
        return False
    return await run_in_threadpool(bcrypt.checkpw, password.encode(), hashed.encode())


def is_bcrypt_hash(value: str) -> bool:
    return bool(_BCRYPT_HASH.match(value))
