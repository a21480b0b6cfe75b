"""oncore completion bash|zsh|fish|powershell."""

from __future__ import annotations

from typing import Annotated

import typer


def completion(shell: Annotated[str, typer.Argument(metavar="SHELL", help="bash, zsh, fish or powershell.")]) -> None:
    """Print the shell completion script for SHELL.

    \b
    Examples:
      $ oncore completion bash > ~/.local/share/bash-completion/completions/oncore
      $ oncore completion zsh > ~/.zfunc/_oncore
      $ oncore completion fish > ~/.config/fish/completions/oncore.fish
      $ oncore completion powershell >> $PROFILE
    """
    from oncore_cli.core.completion import GENERATORS, script

    if shell not in GENERATORS:
        raise typer.BadParameter(f"{shell!r}: use one of {', '.join(GENERATORS)}", param_hint="SHELL")
    typer.echo(script(shell), nl=False)
