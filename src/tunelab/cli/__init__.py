"""The ``tunelab`` command: thin commands over the public API.

Errors a user can cause print one line (``error: ...``) and exit non-zero; so does any
other error (``error: internal error: ...``; ``tunelab --debug`` shows its traceback).
``run`` and ``resume`` exit 0 when the experiment ends DONE or TIMEOUT (or STOPPED by the
user), 1 when it ends in ERROR. Commands that only read (``list``, ``show``, ``trials``,
``best``, ``view``, ``stop``) never create storage.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from typing import Any

import click

from tunelab.cli._errors import TunelabGroup, get_experiment
from tunelab.cli._errors import friendly as _friendly
from tunelab.cli._options import dashboard_options, serve_options, storage_option
from tunelab.cli._python import python as _python_command
from tunelab.errors import TunelabError, escape

EXIT_OK_PHASES = {"DONE", "TIMEOUT", "STOPPED"}


@click.group(cls=TunelabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tunelab")
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine and tuners decide.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error; log everything.")
def main(verbose: bool, debug: bool) -> None:
    """tunelab: tune hyperparameters from a config file (tunelab YAML, NNI, T9k or Auptimizer)."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(_python_command)


def _run_engine(experiment: Any, *, resume: bool, quiet: bool, dashboard: Any = None) -> None:
    from tunelab.cli._progress import make_progress

    experiment_id = experiment.create() if not resume else experiment.id
    progress = make_progress(experiment_id, quiet=quiet)
    try:
        run = experiment.resume if resume else experiment.run
        result = run(listener=progress, dashboard=dashboard)
    finally:
        if progress is not None:
            progress.close()
    best = (
        ""
        if result.best_value is None
        else f"; best value {result.best_value:.6g} with {json.dumps(result.best_params)}"
    )
    click.echo(
        f"experiment {result.experiment_id} ended {result.phase.value}"
        f"{': ' + escape(result.message, 4000) if result.message else ''}{best}",
        err=True,
    )
    if result.phase.value not in EXIT_OK_PHASES:
        sys.exit(1)


@main.command()
@click.argument("config_file", type=click.Path(dir_okay=False))
@storage_option
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@dashboard_options
@_friendly
def run(
    config_file: str,
    storage: str | None,
    quiet: bool,
    port: int | None,
    host: str,
    token: str | None,
    token_file: str | None,
    read_only: bool,
) -> None:
    """Run the experiment described by CONFIG_FILE."""
    from tunelab.engine import Experiment

    overrides = {"storage": storage} if storage else {}
    dashboard = serve_options(port, host, token, token_file, read_only)
    experiment = Experiment.from_file(config_file, **overrides)
    for warning in experiment.warnings:
        click.echo(f"warning: {escape(warning, 1000)}", err=True)
    experiment_id = experiment.create()
    click.echo(f"experiment {experiment_id} created ({experiment.format} config {config_file})", err=True)
    _run_engine(experiment, resume=False, quiet=quiet, dashboard=dashboard)


@main.command()
@click.argument("experiment_id")
@storage_option
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@dashboard_options
@_friendly
def resume(
    experiment_id: str,
    storage: str | None,
    quiet: bool,
    port: int | None,
    host: str,
    token: str | None,
    token_file: str | None,
    read_only: bool,
) -> None:
    """Continue an experiment that was stopped, timed out or killed."""
    from tunelab.engine import Experiment
    from tunelab.storage import open_storage

    dashboard = serve_options(port, host, token, token_file, read_only)
    store = open_storage(storage, create=False)
    try:
        get_experiment(store, experiment_id, storage)
    finally:
        store.close()
    experiment = Experiment.load(experiment_id, storage=storage)
    _run_engine(experiment, resume=True, quiet=quiet, dashboard=dashboard)


@main.command()
@click.argument("experiment_id")
@storage_option
@_friendly
def worker(experiment_id: str, storage: str | None) -> None:
    """Join a shared experiment (shared: true, PostgreSQL storage) as one more worker."""
    from tunelab.engine import Experiment

    result = Experiment.load(experiment_id, storage=storage).work()
    click.echo(f"{experiment_id}: {result.phase.value}")
    if result.phase.value not in EXIT_OK_PHASES:
        sys.exit(1)


@main.command()
@click.argument("experiment_id")
@storage_option
@_friendly
def stop(experiment_id: str, storage: str | None) -> None:
    """Ask a running experiment to stop (its engine stops running trials and ends STOPPED)."""
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    record = get_experiment(store, experiment_id, storage)
    if record.phase.is_final:
        click.echo(f"experiment {escape(experiment_id)} has already ended {record.phase.value}", err=True)
        return
    store.request_stop(experiment_id)
    click.echo(f"stop requested for experiment {escape(experiment_id)}", err=True)
    from tunelab.server._liveness import engine_liveness

    if not engine_liveness(record).responding:
        click.echo(
            f"note: its engine is not responding ({engine_liveness(record).reason}); nothing acts on the request "
            f"until `tunelab resume {escape(experiment_id)}` continues the experiment",
            err=True,
        )


@main.command(name="list")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def list_experiments(storage: str | None, as_json: bool) -> None:
    """List the stored experiments, newest first."""
    from tunelab.cli._views import experiment_items, experiments_table
    from tunelab.storage import StorageNotFound, open_storage

    try:
        store = open_storage(storage, create=False)
    except StorageNotFound as exc:
        if as_json:
            click.echo("[]")
        click.echo(str(exc), err=True)
        return
    items = experiment_items(store)
    if as_json:
        click.echo(json.dumps(items, indent=2, default=str))
        return
    experiments_table(items)


@main.command()
@click.argument("experiment_id")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def show(experiment_id: str, storage: str | None, as_json: bool) -> None:
    """Show an experiment: phase, progress against its limits, best trial, config."""
    from tunelab.cli._views import experiment_summary, show_experiment
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    get_experiment(store, experiment_id, storage)
    summary = experiment_summary(store, experiment_id)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    show_experiment(summary)


@main.command()
@click.argument("experiment_id")
@storage_option
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@_friendly
def trials(experiment_id: str, storage: str | None, fmt: str) -> None:
    """List an experiment's trials."""
    from tunelab.cli._views import trial_rows, trials_table
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    get_experiment(store, experiment_id, storage)
    records = store.get_trials(experiment_id, with_intermediate=fmt == "json")
    if fmt == "json":
        click.echo(json.dumps([_trial_json(t) for t in records], indent=2, default=str))
    elif fmt == "csv":
        rows = trial_rows(records)
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        trials_table(records)


def _trial_json(t: Any) -> dict[str, Any]:
    return {
        "id": t.id,
        "number": t.number,
        "state": t.state.value,
        "params": t.params,
        "value": t.value,
        "metrics": t.metrics,
        "attempt": t.attempt,
        "seed": t.seed,
        "budget": t.budget,
        "parent": t.parent,
        "checkpoint_from": t.checkpoint_from,
        "started_at": t.started_at,
        "ended_at": t.ended_at,
        "message": t.message,
        "trial_dir": t.trial_dir,
        "intermediate": [
            {"step": r.step, "value": r.value, "metrics": r.metrics, "time": r.time} for r in t.intermediate
        ],
        "warnings": list(t.warnings),
    }


@main.command()
@click.argument("experiment_id")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def best(experiment_id: str, storage: str | None, as_json: bool) -> None:
    """The best parameters and value found so far (only trials that SUCCEEDED count; ties go to the earlier)."""
    from tunelab.storage import TrialState, best_trial, open_storage

    store = open_storage(storage, create=False)
    record = get_experiment(store, experiment_id, storage)
    trials = store.get_trials(experiment_id)
    trial = best_trial(trials, str(record.config.get("mode", "min")))
    if trial is None:
        partial = sum(t.state == TrialState.EARLY_STOPPED for t in trials)
        note = (
            f" ({partial} early-stopped trial{'' if partial == 1 else 's'} do not count: their values are partial)"
            if partial
            else ""
        )
        raise TunelabError(f"experiment {escape(experiment_id)} has no successful trial yet{note}")
    data = {
        "experiment_id": experiment_id,
        "trial": trial.number,
        "value": trial.value,
        "params": trial.params,
        "metrics": trial.metrics,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(f"best value {trial.value:.6g} (trial {trial.number})")
        for key, value in trial.params.items():
            click.echo(f"  {escape(key)} = {json.dumps(value, default=str)}")


@main.command()
@click.argument("config_file", type=click.Path(dir_okay=False))
@_friendly
def validate(config_file: str) -> None:
    """Check CONFIG_FILE without running it: everything `tunelab run` checks before the first trial."""
    from tunelab.config import load_config

    # load_config is the one decision `run` makes too (Experiment.from_file); nothing is built here.
    loaded = load_config(config_file)
    config = loaded.config
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    count = len(config.space().leaves)
    click.echo(
        f"{escape(config_file)}: valid {loaded.format} config; {count} parameter{'' if count == 1 else 's'}, "
        f"tuner {escape(config.tuner.name)}, "
        f"mode {config.mode}, max_trials {config.max_trials or 'unlimited'}, concurrency {config.concurrency}"
    )


@main.command()
@click.argument("experiment_id", required=False)
@storage_option
@dashboard_options
@_friendly
def view(
    experiment_id: str | None,
    storage: str | None,
    port: int | None,
    host: str,
    token: str | None,
    token_file: str | None,
    read_only: bool,
) -> None:
    """Serve the dashboard over stored experiments (running or ended) until Ctrl-C."""
    from tunelab.storage import open_storage

    options = serve_options(8080 if port is None else port, host, token, token_file, read_only, experiment_id)
    store = open_storage(storage, create=False)
    if experiment_id is not None:
        get_experiment(store, experiment_id, storage)
    from tunelab.server import Dashboard

    dashboard = Dashboard(store, options)
    for note in dashboard.notes:
        click.echo(note, err=True)
    try:
        dashboard.serve_forever()
    except KeyboardInterrupt:
        pass
