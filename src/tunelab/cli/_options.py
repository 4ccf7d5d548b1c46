"""Options shared by several commands: the storage, and how to serve the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tunelab.errors import ConfigError, TunelabError, escape

storage_option = click.option(
    "--storage",
    envvar="TUNELAB_STORAGE",
    default=None,
    metavar="PATH_OR_URL",
    help="Storage file or URL (default: $TUNELAB_HOME/tunelab.db).",
)


def _dashboard_options(port: int | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    port_help = (
        "Serve the dashboard on this port (the next free one if taken)."
        if port is not None
        else "Serve the dashboard on this port, e.g. 8080 (the next free one if taken); no dashboard when not given."
    )

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.option("--port", type=int, default=port, show_default=port is not None, help=port_help),
                click.option(
                    "--host",
                    default="127.0.0.1",
                    show_default=True,
                    help="Address to serve on; any that does not resolve to loopback only needs a token.",
                ),
                click.option(
                    "--token",
                    envvar="TUNELAB_TOKEN",
                    default=None,
                    help="Access token for the dashboard (default: $TUNELAB_TOKEN; generated when --host is not "
                    "loopback). On the command line `ps` shows it: prefer $TUNELAB_TOKEN or --token-file.",
                ),
                click.option(
                    "--token-file",
                    type=click.Path(dir_okay=False),
                    default=None,
                    help="Read the access token from this file (its first line).",
                ),
                click.option(
                    "--read-only", is_flag=True, help="Dashboard without actions (stop, cancel, limits, add trial)."
                ),
            ]
        ):
            command = option(command)
        return command

    return decorate


#: ``--port/--host/--token/--token-file/--read-only``: serve the web dashboard (needs the ``server`` extra).
dashboard_options = _dashboard_options(None)
#: The same for ``tunelab view``, which always serves: ``--port`` defaults to 8080.
view_options = _dashboard_options(8080)


def read_token_file(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--token-file {escape(path)!r}: cannot read it ({exc})") from None
    token = text.splitlines()[0].strip() if text.strip() else ""
    if not token:
        raise ConfigError(f"--token-file {escape(path)!r} is empty")
    return token


def choose_token(token: str | None, token_file: str | None) -> str | None:
    """The token from ``--token-file``, ``--token`` or ``$TUNELAB_TOKEN``; a file wins over the
    variable, and both options at once are refused."""
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source("token") if ctx is not None else None
    from_command_line = source == click.core.ParameterSource.COMMANDLINE
    if token_file is not None:
        if token is not None and from_command_line:
            raise ConfigError("give --token or --token-file, not both")
        return read_token_file(token_file)
    if token is not None and from_command_line:
        click.echo(
            "note: a token on the command line is visible to other users (ps); "
            "TUNELAB_TOKEN=... or --token-file PATH keep it out of sight",
            err=True,
        )
    return token


def serve_options(
    port: int | None,
    host: str,
    token: str | None,
    token_file: str | None,
    read_only: bool,
    experiment_id: str | None = None,
) -> Any:
    if port is None:
        return None
    try:
        from tunelab.server import ServeOptions
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise TunelabError("the dashboard needs the server extra: pip install 'tunelab[server]'") from None
    return ServeOptions(
        host=host,
        port=port,
        token=choose_token(token, token_file),
        read_only=read_only,
        experiment_id=experiment_id,
    )
