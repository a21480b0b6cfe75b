"""The local GoTrue's configuration: what the Supabase CLI's default `config.toml` turns on."""

from __future__ import annotations

ACCESS_TOKEN_SECONDS = 3600          # GOTRUE_JWT_EXP
REFRESH_TOKEN_REUSE_SECONDS = 10     # [auth] refresh_token_reuse_interval
OTP_SECONDS = 3600                   # GOTRUE_MAILER_OTP_EXP
OTP_LENGTH = 6
FLOW_STATE_SECONDS = 300            # GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION: a PKCE code lives 5 minutes
MIN_PASSWORD_LENGTH = 6
MAX_PASSWORD_BYTES = 72              # bcrypt ignores the rest
BCRYPT_COST = 10                     # GoTrue's (Go bcrypt's default) cost: about 60-80 ms per hash
MAILER_AUTOCONFIRM = True            # enable_confirmations = false
ANONYMOUS_USERS = True
LOCK_TIMEOUT = "5s"                  # concurrent refreshes of one session wait this long, then 409
VERSION = "oncore-local"
SITE_URL = "http://127.0.0.1:3000"   # [auth] site_url: where verification links land without redirect_to


def settings_json() -> dict:
    external = {name: False for name in (
        "apple", "azure", "bitbucket", "discord", "facebook", "figma", "fly", "github", "gitlab", "google",
        "keycloak", "kakao", "linkedin", "linkedin_oidc", "notion", "spotify", "slack", "slack_oidc", "workos",
        "twitch", "twitter", "x", "zoom", "web3_solana", "web3_ethereum")}
    external.update({"anonymous_users": ANONYMOUS_USERS, "email": True, "phone": False})
    return {"external": external, "disable_signup": False, "mailer_autoconfirm": MAILER_AUTOCONFIRM,
            "phone_autoconfirm": False, "sms_provider": "", "saml_enabled": False,
            "saml_private_key_next_configured": False, "passkeys_enabled": False}
