"""The application object every command receives: one per invocation, built by the root callback into
`ctx.obj`. Everything costly (config file, keyring, HTTP client, services) is built on first use."""

from __future__ import annotations

import sys
from functools import cached_property
from typing import TYPE_CHECKING

from oncore_cli.core import config as cfg
from oncore_cli.core.errors import UsageError

if TYPE_CHECKING:
    from oncore_cli.core.client import Api
    from oncore_cli.core.credentials import CredentialStore
    from oncore_cli.core.output import Output
    from oncore_cli.models.core import Organization


class App:
    def __init__(self, *, profile: str | None = None, fmt: str | None = None, yes: bool = False,
                 quiet: bool = False, url: str | None = None, anon_key: str | None = None) -> None:
        self.profile_flag = profile
        self.fmt = fmt
        self.yes = yes
        self.quiet = quiet
        self.url_flag = url
        self.anon_key_flag = anon_key

    @cached_property
    def home(self):
        return cfg.home()

    @cached_property
    def config(self) -> cfg.ConfigFile:
        return cfg.ConfigFile.load(self.home / cfg.CONFIG_FILE)

    @cached_property
    def settings(self) -> cfg.Settings:
        return cfg.resolve(self.config, profile=self.profile_flag, url=self.url_flag, anon_key=self.anon_key_flag)

    @cached_property
    def output(self) -> Output:
        from oncore_cli.core.output import Output

        return Output(self.fmt, self.quiet)

    @cached_property
    def credentials(self) -> CredentialStore:
        from oncore_cli.core.credentials import CredentialStore

        return CredentialStore(self.home)

    @cached_property
    def api(self) -> Api:
        from oncore_cli.core.client import Api

        return Api(self.settings, self.credentials)

    def close(self) -> None:
        if "api" in self.__dict__:
            self.api.close()

    # -- organizations ---------------------------------------------------------------------------------------
    def org(self, ref: str | None = None) -> Organization:
        """The organization a command works in: --org, then ONCORE_ORG, then the profile's default, then the
        only one the user belongs to."""
        from oncore_cli.services.orgs import OrganizationService

        ref = ref or self.settings.org
        cache = self.__dict__.setdefault("_orgs", {})
        if ref in cache:
            return cache[ref]
        service = OrganizationService(self.api)
        if ref:
            cache[ref] = service.get(ref)
            return cache[ref]
        orgs = service.list()
        if len(orgs) == 1:
            cache[None] = orgs[0]
            return orgs[0]
        if not orgs:
            raise UsageError("you belong to no organization yet: run oncore orgs create NAME")
        raise UsageError(f"you belong to {len(orgs)} organizations and none is selected: run oncore orgs use SLUG, "
                         f"set ONCORE_ORG=SLUG, or pass --org SLUG ({', '.join(o.slug for o in orgs[:5])})")

    # -- prompts ---------------------------------------------------------------------------------------------------
    def confirm(self, question: str, *, yes: bool = False) -> None:
        """Ask before a destructive action; without a terminal to ask on, --yes is required."""
        if yes or self.yes:
            return
        if not sys.stdin.isatty():
            raise UsageError(f"{question.rstrip('?')}: pass --yes to confirm (no terminal to ask on)")
        import typer

        if not typer.confirm(question, default=False, err=True):
            raise UsageError("cancelled")

    def confirm_typed(self, question: str, expected: str, *, yes: bool = False) -> None:
        """Ask for the name of what goes (gh's "type the repository name"), for what cannot be undone."""
        if yes or self.yes:
            return
        if not sys.stdin.isatty():
            raise UsageError(f"{question.rstrip('?')}: pass --yes to confirm (no terminal to ask on)")
        import typer

        typed = typer.prompt(f"{question} Type {expected} to confirm", default="", show_default=False, err=True)
        if typed.strip() != expected:
            raise UsageError(f"cancelled: {typed.strip() or 'nothing'} is not {expected}")

    def save_config(self) -> None:
        self.config.save()
        self.__dict__.pop("settings", None)


def get_app(ctx) -> App:
    """The App from the root context (a default one when a command is invoked on its own in tests)."""
    root = ctx.find_root()
    if not isinstance(root.obj, App):
        root.obj = App()
    return root.obj
