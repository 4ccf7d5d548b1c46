"""``tunelab python``: run a driver script with the compatibility modules importable.

NNI's ``main.py`` (``from nni.experiment import Experiment``), an Orca script
(``from bigdl.orca.automl.auto_estimator import AutoEstimator``) or ``python -m aup
experiment.json`` are started by the user, not by tunelab, so tunelab's ``nni``, ``aup``,
``bigdl.orca.automl`` and ``zoo.orca.automl`` must be importable there. This command runs
the interpreter tunelab runs in with them on ``PYTHONPATH``: only those whose real package
is not installed, so an installed NNI, Auptimizer or BigDL is never shadowed (the rule every
trial follows too: :func:`tunelab.trial._compat_path.with_shims`). The process is replaced
(``exec``), so signals, standard streams and the exit code are the script's own.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import click

from tunelab.trial._compat_path import with_shims

_EPILOG = """\b
Examples:
  tunelab python main.py                  # NNI's Python-API tutorial, unmodified
  tunelab python -m aup experiment.json   # Auptimizer's way to start an experiment
  tunelab python autoestimator_pytorch.py --epochs 1

Everything after `python` goes to the interpreter as it is (`-c CODE`, `-u` work too).
"""


def python_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment ``tunelab python`` runs in: ``base`` (this process's) with the missing shims on the path."""
    return with_shims(os.environ if base is None else base)


def _exec(argv: Sequence[str], env: Mapping[str, str]) -> None:  # pragma: no cover - replaces the process
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "nt":  # no exec on Windows: wait for the child and pass its exit code on
        import subprocess

        sys.exit(subprocess.call(list(argv), env=dict(env)))
    os.execve(argv[0], list(argv), dict(env))


@click.command(
    name="python",
    options_metavar="[-h]",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog=_EPILOG,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="SCRIPT [ARGS]... | -m MODULE [ARGS]...")
def python(args: tuple[str, ...]) -> None:
    """Run Python with tunelab's nni, aup, Orca and tfx compatibility modules importable.

    `tunelab python SCRIPT [ARGS...]` or `tunelab python -m MODULE [ARGS...]`: the interpreter
    tunelab runs in, with the compatibility modules on PYTHONPATH where the real package
    (NNI, Auptimizer, BigDL Orca, Analytics Zoo, TFX) is not installed, so an installed one always
    wins. The script's exit code and signals are its own.
    """
    _exec([sys.executable, *args], python_environment())
