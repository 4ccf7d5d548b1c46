"""``aup.Experiment``: Auptimizer's Python entry point for an experiment, run by tunelab.

``Experiment(BasicConfig().load("experiment.json")).start()`` then ``.finish()``, as
``python -m aup`` does it. ``start()`` runs the whole experiment (Auptimizer's returns while
jobs run, and ``finish()`` waits for them); ``finish()`` returns tunelab's result. Auptimizer's
database settings (``username``, ``connector``, ``auppath``, ``sleep_time``,
``request_stop_time``) have no meaning here and are ignored; relative paths in the config are
taken from the current folder, as Auptimizer takes them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


class Experiment:
    """An Auptimizer experiment config, run with tunelab's engine and storage (``$TUNELAB_HOME``)."""

    def __init__(
        self,
        exp_config: dict[str, Any],
        username: str | None = None,
        connector: Any = None,
        auppath: str = ".aup",
        sleep_time: float = 1,
        eid: str | None = None,
        start: bool = True,
        request_stop_time: float = 5,
    ) -> None:
        from tunelab.config import load_config_dict
        from tunelab.engine import Experiment as Engine

        if eid is not None:
            self._engine = Engine.load(str(eid))
        else:
            loaded = load_config_dict(dict(exp_config), base_dir=Path.cwd(), format="auptimizer", startup=True)
            for warning in loaded.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            self._engine = Engine(loaded.config, format=loaded.format, warnings=loaded.warnings)
        self._resume = eid is not None
        self.result: Any = None

    @property
    def eid(self) -> str | None:
        """The tunelab experiment id, once the experiment is recorded."""
        return self._engine.id

    def start(self) -> None:
        """Run the experiment to its end (or continue it, for an ``Experiment(..., eid=ID)``)."""
        if self.result is None:
            self.result = self._engine.resume() if self._resume else self._engine.run()

    def resume(self, eid: str) -> None:
        """Continue the tunelab experiment ``eid``."""
        from tunelab.engine import Experiment as Engine

        self._engine, self._resume, self.result = Engine.load(str(eid)), True, None
        self.start()

    def finish(self) -> Any:
        """The experiment's result (``best_params``, ``best_value``, ``trials``...); runs it first if needed."""
        self.start()
        return self.result

    def add_suspend_signal(self) -> None:
        """Nothing to do: tunelab stops the running jobs on Ctrl-C and ``tunelab resume ID`` continues."""

    def add_refresh_signal(self) -> None:
        """Nothing to do: results are stored the moment they arrive."""
