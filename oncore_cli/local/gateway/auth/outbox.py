"""GoTrue's mailer, writing to the local outbox instead of SMTP. Each mail carries a 6-digit code and a link; the
link's token is GoTrue's token hash, sha224(email + code), also stored on the user row and in one_time_tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request

from oncore_cli.local import mail
from oncore_cli.local.gateway.auth import limits, policy, store

# verification type → (user columns holding the token and its sent time, one_time_tokens.token_type, subject)
KINDS: dict[str, tuple[str, str, str, str]] = {
    "signup": ("confirmation_token", "confirmation_sent_at", "confirmation_token", "Confirm Your Signup"),
    "invite": ("confirmation_token", "confirmation_sent_at", "confirmation_token", "You have been invited"),
    "magiclink": ("recovery_token", "recovery_sent_at", "recovery_token", "Your Magic Link"),
    "recovery": ("recovery_token", "recovery_sent_at", "recovery_token", "Reset Your Password"),
    "email_change": ("email_change_token_new", "email_change_sent_at", "email_change_token_new",
                     "Confirm Email Change"),
}


def token_hash(email_or_phone: str, otp: str) -> str:
    return hashlib.sha224((email_or_phone + otp).encode()).hexdigest()


def new_otp() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(policy.OTP_LENGTH))


# Hosts a link may send a session to (GoTrue's isRedirectURLValid: the site URL's host or the allow list; the
# local stack allows this machine's loopback names, as the supabase CLI's dev setups use them interchangeably).
_LOCAL_HOSTS = frozenset({urlsplit(policy.SITE_URL).hostname, "localhost", "127.0.0.1", "::1"})


def redirect_target(request: Request) -> str:
    """`redirect_to` when it points at an allowed host, else the site URL: the session travels in the fragment."""
    wanted = request.query_params.get("redirect_to") or ""
    try:
        parts = urlsplit(wanted)
        allowed = parts.scheme in ("http", "https") and parts.hostname in _LOCAL_HOSTS
    except ValueError:
        allowed = False
    return wanted if allowed else policy.SITE_URL


async def prepare(request: Request, conn, user: dict[str, Any], kind: str, to: str,
                  pkce: bool = False) -> dict[str, str]:
    """Store a fresh code for `kind` on the user; return otp, hashed_token, action_link, redirect_to. In the PKCE
    flow the stored and mailed token hash carries GoTrue's `pkce_` prefix: that is how /verify tells the flows apart."""
    token_column, sent_column, ott_type, _ = KINDS[kind]
    otp = new_otp()
    hashed = ("pkce_" if pkce else "") + token_hash(to.lower(), otp)
    redirect_to = redirect_target(request)
    config = request.app.state.config
    link = f"{config.api_url}/auth/v1/verify?" + urlencode({"token": hashed, "type": kind, "redirect_to": redirect_to})
    await store.update_user(conn, user["id"], **{token_column: hashed, sent_column: store.now()})
    limits.limits_of(request).new_code(user["id"])
    async with conn.cursor() as cur:
        await cur.execute("delete from auth.one_time_tokens where user_id = %s and token_type = %s",
                          (user["id"], ott_type))
        await cur.execute("insert into auth.one_time_tokens (id, user_id, token_type, token_hash, relates_to) "
                          "values (gen_random_uuid(), %s, %s, %s, %s)", (user["id"], ott_type, hashed, to.lower()))
    return {"otp": otp, "hashed_token": hashed, "action_link": link, "redirect_to": redirect_to}


async def send(request: Request, conn, user: dict[str, Any], kind: str, to: str | None = None,
               pkce: bool = False) -> dict[str, str]:
    """Prepare a code and write the mail to the outbox (after the mail limits: an invitation has none)."""
    to = to or user["email"]
    if kind != "invite":  # the row locked: concurrent requests for one address see each other's sent time
        current = await store.get_user(conn, user["id"], lock=True) or user
        limits.limits_of(request).check_mail(current.get(KINDS[kind][1]), store.now(), policy.MAILER_AUTOCONFIRM)
    link = await prepare(request, conn, user, kind, to, pkce)
    subject = KINDS[kind][3]
    text = (f"{subject}\n\nFollow this link:\n{link['action_link']}\n\n"
            f"Or enter this code: {link['otp']}\n")
    mail.write_message(request.app.state.config.data_dir, to, subject, text, kind, otp=link["otp"],
                       token_hash=link["hashed_token"], link=link["action_link"], redirect_to=link["redirect_to"],
                       user_id=str(user["id"]))
    return link


async def clear(conn, user_id) -> None:
    async with conn.cursor() as cur:
        await cur.execute("delete from auth.one_time_tokens where user_id = %s", (user_id,))
