"""``python -m aup experiment.json``: Auptimizer's command, running the experiment with tunelab.

Run it as ``tunelab python -m aup experiment.json`` (or with tunelab's compatibility
modules on ``PYTHONPATH``). Auptimizer's options map onto tunelab's commands:

==========================  =========================================================
``EXPERIMENT_FILE``         ``tunelab run EXPERIMENT_FILE``
``--test``                  ``tunelab validate EXPERIMENT_FILE`` (check, run nothing)
``--resume ID``             ``tunelab resume ID`` (a tunelab experiment id)
``--launch_dashboard``      ``--port`` (``--dashboard_port``, else 8080 or the next free one)
``--log debug|info``        ``tunelab --debug`` / ``tunelab -v`` (without it, warnings only)
``--user``, ``--aup_folder``, ``--sleep``: Auptimizer's database and scheduling settings;
tunelab keeps its own storage (``$TUNELAB_HOME``), so each prints a warning and is ignored.
==========================  =========================================================

The exit status is tunelab's: 0 when the experiment ends DONE, TIMEOUT or STOPPED.
"""

from __future__ import annotations

import argparse
import sys

DEFAULT_DASHBOARD_PORT = 8080


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m aup", description="Auptimizer's HPO entry point, run by tunelab.")
    parser.add_argument("experiment_file", help="Auptimizer experiment configuration (experiment.json)")
    parser.add_argument("--test", action="store_true", help="Check the configuration and exit")
    parser.add_argument("--user", default=None, help="Ignored (Auptimizer's user name for job scheduling)")
    parser.add_argument("--aup_folder", default=None, help="Ignored (Auptimizer's .aup database folder)")
    parser.add_argument("--resume", default="none", help="Resume the tunelab experiment with this id")
    parser.add_argument("--log", default=None, choices=["debug", "info", "warn", "error"], help="Log level")
    parser.add_argument("--sleep", default=None, type=float, help="Ignored (Auptimizer's polling interval)")
    parser.add_argument("--launch_dashboard", action="store_true", help="Serve tunelab's dashboard while it runs")
    parser.add_argument("--dashboard_port", default=None, type=int, help="Port for the dashboard")
    return parser


def tunelab_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """The ``tunelab`` command line for Auptimizer's ``argv``, and the warnings to print."""
    args = _parser().parse_args(argv)
    warnings = [
        f"--{name} is an Auptimizer database/scheduling setting; tunelab ignores it"
        for name in ("user", "aup_folder", "sleep")
        if getattr(args, name) is not None
    ]
    command = ["--debug"] if args.log == "debug" else ["-v"] if args.log == "info" else []
    if args.dashboard_port is not None and not args.launch_dashboard:
        raise SystemExit("error: --dashboard_port given without --launch_dashboard")
    if args.test:
        return [*command, "validate", args.experiment_file], warnings
    if args.resume != "none":
        command += ["resume", args.resume]
    else:
        command += ["run", args.experiment_file]
    if args.launch_dashboard:
        command += ["--port", str(args.dashboard_port or DEFAULT_DASHBOARD_PORT)]
    return command, warnings


def main(argv: list[str] | None = None) -> None:
    command, warnings = tunelab_argv(sys.argv[1:] if argv is None else argv)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    from tunelab.cli import main as tunelab_main

    tunelab_main(command, prog_name="python -m aup")


if __name__ == "__main__":
    main()
