"""oncore completion bash|zsh|fish|powershell."""

from __future__ import annotations

from typing import Annotated, Optional

import typer


def completion(ctx: typer.Context,
               shell: Annotated[Optional[str], typer.Argument(metavar="SHELL", help="bash, zsh, fish or powershell.")] = None,
               values: Annotated[Optional[str], typer.Option("--values", metavar="KIND", hidden=True,
                                                             help="Print names for TAB: profiles, orgs or venues.")] = None) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
      $ oncore completion bash > ~/.local/share/bash-completion/completions/oncore
      $ oncore completion zsh > ~/.zfunc/_oncore
      $ oncore completion fish > ~/.config/fish/completions/oncore.fish
      $ oncore completion powershell >> $PROFILE
    """
    from oncore_cli.core.completion import GENERATORS, script

    if values:  # called by the scripts when TAB completes a --profile, --org or --venue value
        from oncore_cli.core.completion import values as names
        from oncore_cli.core.context import get_app

        for name in names(values, get_app(ctx)):
            typer.echo(name)
        return
    if shell not in GENERATORS:
        raise typer.BadParameter(f"{shell!r}: use one of {', '.join(GENERATORS)}", param_hint="SHELL")
    typer.echo(script(shell), nl=False)
