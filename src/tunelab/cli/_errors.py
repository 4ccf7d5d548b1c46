"""How the ``tunelab`` command fails: one line on stderr and an exit code, never a traceback
(unless ``tunelab --debug`` asks for one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from tunelab.errors import ExperimentNotFound, TunelabError, escape

LIST_HINT = "`tunelab list` shows the stored experiments"


def _debug(ctx: click.Context | None) -> bool:
    return bool(ctx is not None and ctx.find_root().params.get("debug"))


def _fail(ctx: click.Context, exc: BaseException) -> None:
    """Print ``exc`` as one line and exit: its own exit code for tunelab's errors, 1 for anything else."""
    if isinstance(exc, TunelabError):
        message = str(exc)
        if isinstance(exc, ExperimentNotFound) and "tunelab list" not in message:
            message += f"; {LIST_HINT}"
        click.echo(f"error: {message}", err=True)
        ctx.exit(exc.exit_code)
    text = escape(str(exc), 300)
    click.echo(
        f"error: internal error: {type(exc).__name__}{': ' + text if text else ''} "
        "(rerun with `tunelab --debug ...` for the traceback)",
        err=True,
    )
    ctx.exit(1)


class TunelabGroup(click.Group):
    """The command group, and the CLI's last line of defence: every exception a command lets
    through that is not click's own (usage errors, exits, Ctrl-C) becomes one line."""

    #: Options of the group that may also follow the command (``tunelab run -v FILE``).
    GLOBAL_FLAGS = ("-v", "--verbose", "--debug")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self.hoist_global_flags(ctx, args))

    def hoist_global_flags(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Move ``-v``/``--verbose``/``--debug`` given after the command in front of it, unless
        that command has an option of the same name or passes its arguments on (``python``);
        the value of an option and anything after ``--`` stay where they are."""
        position = next((i for i, arg in enumerate(args) if not arg.startswith("-")), None)
        if position is None:
            return args
        command = self.get_command(ctx, args[position])
        if command is None or command.context_settings.get("ignore_unknown_options"):
            return args
        takes_value: set[str] = set()
        own: set[str] = set()
        for param in command.params:
            if isinstance(param, click.Option):
                own.update(param.opts + param.secondary_opts)
                if not param.is_flag and not param.count:
                    takes_value.update(param.opts)
        hoisted, kept = [], []
        rest = args[position + 1 :]
        index = 0
        while index < len(rest):
            arg = rest[index]
            if arg == "--":
                kept += rest[index:]
                break
            if arg in self.GLOBAL_FLAGS and arg not in own:
                hoisted.append(arg)
            else:
                kept.append(arg)
                if arg in takes_value and index + 1 < len(rest):
                    kept.append(rest[index + 1])
                    index += 1
            index += 1
        return args[:position] + hoisted + [args[position]] + kept

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands with the whole first sentence of each summary (wrapped, never cut)."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if _debug(ctx):
                raise
            _fail(ctx, exc)


def friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn tunelab's own errors into one line on stderr and their exit code (outside a
    :class:`TunelabGroup` too, as when a test invokes a command by itself)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TunelabError as exc:
            ctx = click.get_current_context(silent=True)
            if ctx is None or _debug(ctx):
                raise
            _fail(ctx, exc)

    return wrapper


def resolve_experiment(store: Any, ref: str, storage: str | None) -> Any:
    """The stored experiment ``ref`` names: its id, ``latest`` (the newest), a name (the
    newest with that name) or a unique id prefix (:func:`tunelab.storage._refs.find_experiment`);
    an unknown one also says how to list them."""
    from tunelab.storage._refs import find_experiment

    where = "" if storage is None else f" --storage {escape(storage)}"
    return find_experiment(store, ref, hint=f"`tunelab list{where}` shows the stored experiments")


#: The former name of :func:`resolve_experiment`.
get_experiment = resolve_experiment
