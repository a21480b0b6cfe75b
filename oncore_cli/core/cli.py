"""What every command module shares: the root group that turns exceptions into one line and an exit code,
a factory for noun groups, and the common options. Imports typer and stdlib only."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperGroup


class Suggesting:
    """A group whose unknown commands get "did you mean", over every command (loaded or lazy)."""

    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            if type(exc).__name__ == "UsageError" and args and str(getattr(exc, "message", "")).startswith("No such command"):
                from difflib import get_close_matches

                names = [n for n in self.list_commands(ctx) if not n.startswith("_")]
                matches = get_close_matches(args[0], names, n=3, cutoff=0.5)
                hint = f": did you mean {' or '.join(matches)}?" if matches else f"; commands: {', '.join(names)}"
                exc.message = f"unknown command {args[0]!r}{hint}"
            raise


def one_line_usage(exc) -> None:
    """Show a click usage error as oncore shows its own: `oncore: <message> (see <command> --help)`, one line."""
    import sys

    def show(file=None) -> None:
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message()
        message = message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
        message = message.rstrip(".")
        where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        (file or sys.stderr).write(f"oncore: {message}{where}\n")

    exc.show = show


GLOBAL_FLAGS = {"--json": False, "--yes": False, "-y": False, "--quiet": False, "-q": False,
                "--profile": True, "-p": True}  # flag -> takes a value


def hoist_global_flags(group, ctx, args: list[str]) -> list[str]:
    """Global flags may come anywhere on the line, as gh takes them: `oncore whoami --profile pm`,
    `oncore orgs create X -q`. A global flag after the command moves to the front, unless that command has an
    option of the same name (then it is the command's: `shows list --json`)."""
    if not any(a.split("=", 1)[0] in GLOBAL_FLAGS for a in args):
        return args
    front: list[str] = []
    kept: list[str] = []
    command = group
    sub_ctx = ctx
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            kept.extend(args[index - 1:])
            break
        if token.startswith("-") and token != "-":
            name, has_value = token.split("=", 1)[0], "=" in token
            option = _option(command, name)
            if option is None and name in GLOBAL_FLAGS and command is not group:
                front.append(token)
                if GLOBAL_FLAGS[name] and not has_value and index < len(args):
                    front.append(args[index])
                    index += 1
                continue
            kept.append(token)
            if option is not None and not option.is_flag and not option.count and not has_value and index < len(args):
                kept.append(args[index])
                index += 1
            continue
        kept.append(token)
        if hasattr(command, "get_command"):
            sub = command.get_command(sub_ctx, token)
            if sub is None:  # not a command: leave the rest to click (it will say what is wrong)
                kept.extend(args[index:])
                break
            command = sub
    return front + kept


def _option(command, name: str):
    for param in getattr(command, "params", ()):
        if getattr(param, "param_type_name", "") == "option" and name in (*param.opts, *param.secondary_opts):
            return param
    return None


class OncoreGroup(Suggesting, TyperGroup):
    """The root group.

    Nouns are loaded lazily: `lazy` maps a command name to (module, attribute, one-line help), and a module is
    imported and turned into a click command only when that command runs (building every command's parameters
    up front would cost more than importing typer). Any exception a command raises ends here, is reported once
    by core.errors, and becomes the process's exit code; typer's own parsing errors (exit 2) pass through.
    """

    lazy: dict[str, tuple[str, str, str]] = {}

    def parse_args(self, ctx, args):
        plain_coercion(self)
        return super().parse_args(ctx, hoist_global_flags(self, ctx, args))

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except Exception as exc:
            if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
                one_line_usage(exc)
            raise

    def list_commands(self, ctx):
        return [*self.commands, *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.lazy:
            self.commands[name] = _load(name, *self.lazy[name][:2])
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        rows = [(name, self.commands[name].get_short_help_str(limit=formatter.width)) for name in self.commands
                if not self.commands[name].hidden]
        rows += [(name, entry[2]) for name, entry in self.lazy.items() if name not in self.commands]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place that maps every error
            if type(exc).__module__.startswith(("typer", "click")):
                if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
                    one_line_usage(exc)
                raise
            from oncore_cli.core.errors import report

            raise typer.Exit(report(exc)) from None
        except KeyboardInterrupt:
            from oncore_cli.core.errors import report

            raise typer.Exit(report(KeyboardInterrupt())) from None
        finally:
            obj = ctx.obj
            if obj is not None and hasattr(obj, "close"):
                obj.close()


def lazy_root(entries: dict[str, tuple[str, str, str]]) -> type[OncoreGroup]:
    return type("OncoreRoot", (OncoreGroup,), {"lazy": dict(entries)})


def _load(name: str, module_name: str, attribute: str):
    import importlib

    import typer.main

    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):  # a noun: always a group, even with a single verb (`auth token`)
        command = _noun_group(target)
    else:  # a plain function: a top-level verb such as `login`
        wrapper = typer.Typer(add_completion=False, rich_markup_mode=None)
        wrapper.command(name)(target)
        command = typer.main.get_command(wrapper)
    command.name = name
    plain_coercion(command)
    return command


class LazyVerbs(Suggesting, TyperGroup):
    """A noun whose verbs are built when used: `oncore shows list` builds `list`, not all six verbs."""

    verbs: dict = {}  # name -> typer CommandInfo, set per instance

    def list_commands(self, ctx):
        return [*self.commands, *(name for name in self.verbs if name not in self.commands)]

    def get_command(self, ctx, name):
        if name not in self.commands and name in self.verbs:
            import typer.main

            command = typer.main.get_command_from_info(self.verbs[name], pretty_exceptions_short=True,
                                                       rich_markup_mode=None)
            plain_coercion(command)
            self.commands[name] = command
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        import inspect

        limit = formatter.width - 6 - max((len(name) for name in self.list_commands(ctx)), default=0)
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                if not self.commands[name].hidden:
                    rows.append((name, self.commands[name].get_short_help_str(limit=limit)))
            else:
                info = self.verbs[name]
                text = info.short_help or info.help or inspect.getdoc(info.callback) or ""
                rows.append((name, _short(text, limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _short(text: str, limit: int) -> str:
    """The one-line help click would show for this docstring."""
    try:
        from typer._click.utils import make_default_short_help
    except ImportError:  # typer versions that use click itself
        from click.utils import make_default_short_help
    return make_default_short_help(text, limit)


def _noun_group(target: typer.Typer):
    """The click group of a noun, its verbs left unbuilt (typer would build every verb's parameters)."""
    import copy

    import typer.main

    target.rich_markup_mode = None  # plain help everywhere, as at the root
    if target.registered_groups:  # nested nouns: let typer build the whole tree
        return typer.main.get_group(target)
    shell = copy.copy(target)
    shell.info = copy.copy(target.info)
    shell.info.cls = LazyVerbs
    shell.registered_commands = []
    group = typer.main.get_group(shell)
    group.verbs = {info.name or typer.main.get_command_name(info.callback.__name__): info
                   for info in target.registered_commands}
    return group


def plain_coercion(command) -> None:
    """Coerce plain str/int/bool/list[str] parameters with the standard library.

    Recent typer versions build a pydantic TypeAdapter for every parameter the first time a command parses its
    arguments; for a verb with ten options that costs more than importing typer itself. Our options are plain
    strings, integers and flags, so they get a small coercer instead. Anything else, and typer versions without
    this machinery, keep typer's own behaviour."""
    try:
        from typer._coercion import RuntimeParam
    except ImportError:
        return
    coercer = _plain_coercer_class(RuntimeParam)
    for param in command.params:
        _use_plain(param, coercer)
    make_help_option = command.get_help_option  # built per context, outside command.params

    def get_help_option(ctx):
        option = make_help_option(ctx)
        if option is not None:
            _use_plain(option, coercer)
        return option

    command.get_help_option = get_help_option
    for sub in getattr(command, "commands", {}).values():
        plain_coercion(sub)


def _use_plain(param, coercer) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", True) is not None:
        return
    annotation, is_list = descriptor.annotation, False
    if getattr(annotation, "__origin__", None) is list and getattr(annotation, "__args__", ()) == (str,):
        annotation, is_list = str, True
    if annotation in (str, int, bool) and not descriptor.is_choice and not descriptor.is_file:
        param._runtime_param = coercer(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation,
                                       base=annotation, is_list=is_list)


_COERCER = None


def _plain_coercer_class(runtime_param):
    global _COERCER
    if _COERCER is None:
        from dataclasses import dataclass

        @dataclass(frozen=True)
        class PlainRuntimeParam(runtime_param):
            base: type = str
            is_list: bool = False

            def _coerce_value(self, value, param, ctx):
                if self.is_list:
                    return [self._one(item, param, ctx) for item in value]
                return self._one(value, param, ctx)

            def _one(self, value, param, ctx):
                if self.base is str:
                    return value if isinstance(value, str) else str(value)
                if self.base is bool:
                    if isinstance(value, bool):
                        return value
                    text = str(value).strip().lower()
                    if text in ("1", "true", "yes", "y", "on"):
                        return True
                    if text in ("0", "false", "no", "n", "off"):
                        return False
                    raise typer.BadParameter(f"{value!r} is not a valid boolean.", ctx=ctx, param=param)
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    raise typer.BadParameter(f"{value!r} is not a valid integer.", ctx=ctx, param=param) from None
                low, high = self.parameter_info.min, self.parameter_info.max
                if (low is not None and number < low) or (high is not None and number > high):
                    bounds = " and ".join(x for x in (f">={low}" if low is not None else "",
                                                       f"<={high}" if high is not None else "") if x)
                    raise typer.BadParameter(f"{number} is not in the range {bounds}.", ctx=ctx, param=param)
                return number

        _COERCER = PlainRuntimeParam
    return _COERCER


def noun(help_text: str) -> typer.Typer:
    """A noun group (`oncore shows …`): help on no arguments, no completion options of its own."""
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False, rich_markup_mode=None)


# -- options shared by many verbs --------------------------------------------------------------------------------
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (stable field names, ISO 8601 dates).")]
FormatOpt = Annotated[Optional[str], typer.Option(
    "--format", "-o", metavar="FORMAT",
    help="Output format: table, tsv, csv, json or ndjson (default: table on a terminal, tsv when piped).")]
OrgOpt = Annotated[Optional[str], typer.Option(
    "--org", metavar="ORG", help="Organization (slug, name or id); default: ONCORE_ORG or the profile's.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
