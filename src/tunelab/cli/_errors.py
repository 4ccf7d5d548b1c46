"""How the ``tunelab`` command fails: one line on stderr and an exit code, never a traceback
(unless ``tunelab --debug`` asks for one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from tunelab.errors import ExperimentNotFound, TunelabError, did_you_mean, escape

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


def get_experiment(store: Any, experiment_id: str, storage: str | None) -> Any:
    """The stored experiment, or an error that names the closest stored id and how to list them."""
    try:
        return store.get_experiment(experiment_id)
    except ExperimentNotFound as exc:
        known = [record.id for record in store.list_experiments()]
        where = "" if storage is None else f" --storage {escape(storage)}"
        raise ExperimentNotFound(
            f"{exc}{did_you_mean(experiment_id, known)}; `tunelab list{where}` shows the stored experiments"
        ) from None
