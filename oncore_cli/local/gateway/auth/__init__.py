"""/auth/v1: a GoTrue-compatible auth API over the `auth` schema, for unmodified supabase-py and supabase-js.

Paths are relative to the mount, as hosted Kong strips `/auth/v1` before GoTrue sees a request. One module per
group of endpoints; `errors` renders both of GoTrue's error shapes; `tokens` holds sessions and refresh rotation."""

from starlette.routing import Route

from oncore_cli.local.gateway.auth import admin, meta, otp, signup, token, user

_ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

routes = [
    Route("/health", meta.health, methods=["GET"]),
    Route("/settings", meta.settings, methods=["GET"]),
    Route("/.well-known/jwks.json", meta.jwks, methods=["GET"]),
    Route("/signup", signup.signup, methods=["POST"]),
    Route("/token", token.token, methods=["POST"]),
    Route("/logout", user.logout, methods=["POST"]),
    Route("/user", user.get_user, methods=["GET"]),
    Route("/user", user.update_user, methods=["PUT"]),
    Route("/reauthenticate", user.reauthenticate, methods=["GET"]),
    Route("/otp", otp.otp, methods=["POST"]),
    Route("/magiclink", otp.otp, methods=["POST"]),
    Route("/verify", otp.verify_post, methods=["POST"]),
    Route("/verify", otp.verify_get, methods=["GET"]),
    Route("/recover", otp.recover, methods=["POST"]),
    Route("/resend", otp.resend, methods=["POST"]),
    Route("/invite", admin.invite, methods=["POST"]),
    Route("/admin/users", admin.list_users, methods=["GET"]),
    Route("/admin/users", admin.create_user, methods=["POST"]),
    Route("/admin/users/{user_id}", admin.get_user, methods=["GET"]),
    Route("/admin/users/{user_id}", admin.update_user, methods=["PUT"]),
    Route("/admin/users/{user_id}", admin.delete_user, methods=["DELETE"]),
    Route("/admin/generate_link", admin.generate_link, methods=["POST"]),
]
routes.append(Route("/{path:path}", meta.fallback(routes), methods=_ALL, name="fallback"))


async def startup(app) -> None:
    """The rate limiters, from the project's config.toml (and the gateway config's overrides)."""
    from oncore_cli.local.gateway.auth.limits import AuthLimits, RateLimits

    config = app.state.config
    app.state.auth_limits = AuthLimits(RateLimits.load(config.supabase_dir / "config.toml", config.rate_limits))
