"""User, Identity and Session JSON exactly as GoTrue serialises them (`models/user.go`, `identity.go`,
`tokens/service.go` AccessTokenResponse): `""` for a missing email or phone, null timestamps omitted."""

from __future__ import annotations

from typing import Any

from oncore_cli.local.gateway.auth.respond import timestamp

_OPTIONAL_TIMESTAMPS = ("email_confirmed_at", "invited_at", "phone_confirmed_at", "confirmation_sent_at",
                        "confirmed_at", "recovery_sent_at", "email_change_sent_at", "phone_change_sent_at",
                        "reauthentication_sent_at", "last_sign_in_at")


def user_json(user: dict[str, Any], identities: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(user["id"]),
        "aud": user.get("aud") or "",
        "role": user.get("role") or "",
        "email": user.get("email") or "",
    }
    for name in ("email_confirmed_at", "invited_at"):
        if user.get(name):
            body[name] = timestamp(user[name])
    body["phone"] = user.get("phone") or ""
    for name in _OPTIONAL_TIMESTAMPS[2:]:
        if user.get(name):
            body[name] = timestamp(user[name])
        if name == "recovery_sent_at" and user.get("email_change"):
            body["new_email"] = user["email_change"]
        if name == "phone_change_sent_at" and user.get("phone_change"):
            body["new_phone"] = user["phone_change"]
    body["app_metadata"] = user.get("raw_app_meta_data") or {}
    body["user_metadata"] = user.get("raw_user_meta_data") or {}
    body["identities"] = [identity_json(i) for i in identities]
    body["created_at"] = timestamp(user["created_at"])
    body["updated_at"] = timestamp(user["updated_at"])
    if user.get("banned_until"):
        body["banned_until"] = timestamp(user["banned_until"])
    if user.get("deleted_at"):
        body["deleted_at"] = timestamp(user["deleted_at"])
    body["is_anonymous"] = bool(user.get("is_anonymous"))
    return body


def identity_json(identity: dict[str, Any]) -> dict[str, Any]:
    # GoTrue's swapped names: `identity_id` is the row id, `id` the provider's subject
    body: dict[str, Any] = {
        "identity_id": str(identity["id"]),
        "id": identity["provider_id"],
        "user_id": str(identity["user_id"]),
        "identity_data": identity.get("identity_data") or {},
        "provider": identity["provider"],
    }
    if identity.get("last_sign_in_at"):
        body["last_sign_in_at"] = timestamp(identity["last_sign_in_at"])
    body["created_at"] = timestamp(identity["created_at"])
    body["updated_at"] = timestamp(identity["updated_at"])
    if identity.get("email"):
        body["email"] = identity["email"]
    return body
