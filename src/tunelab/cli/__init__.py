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
import os
import sys
from pathlib import Path
from typing import Any, Literal

import click

from tunelab.cli._errors import TunelabGroup, resolve_experiment
from tunelab.cli._errors import friendly as _friendly
from tunelab.cli._options import dashboard_options, serve_options, storage_option, view_options
from tunelab.cli._python import python as _python_command
from tunelab.cli._tfx import tfx_tune as _tfx_tune_command
from tunelab.errors import TunelabError, escape

EXIT_OK_PHASES = {"DONE", "TIMEOUT", "STOPPED"}


@click.group(cls=TunelabGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(package_name="tunelab")
@click.option("-v", "--verbose", is_flag=True, help="Log what the engine and tuners decide.")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error; log everything.")
def main(verbose: bool, debug: bool) -> None:
    """tunelab: tune hyperparameters from a config file (tunelab YAML, NNI, T9k or Auptimizer).

    An experiment is named by its id, a unique prefix of it, its name (the newest with that
    name) or `latest`. -v and --debug may also follow the command (`tunelab run -v FILE`).

    Example: tunelab run config.yml --max-trials 50 --port 8080
    """
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(_python_command)
main.add_command(_tfx_tune_command)


def _hints(store: Any, record: Any) -> list[str]:
    """What to look at and what to run next, for an experiment that just ended."""
    from tunelab.storage import TrialState

    trials = store.get_trials(record.id)
    lines = []
    folder = Path(record.experiment_dir)
    if (folder / "best_params.json").exists():
        lines.append(f"  best parameters: {escape(folder / 'best_params.json')}")
    dirs = {str(Path(t.trial_dir).parent) for t in trials if t.trial_dir}
    if dirs:
        lines.append(f"  trial folders:   {escape(sorted(dirs)[0])}{os.sep}<number>")
    waiting = sum(not t.state.is_final for t in trials)
    again = f" ({waiting} trial{'' if waiting == 1 else 's'} wait to run again)" if waiting else ""
    eid = record.id
    if record.phase.value == "STOPPED":
        lines.append(f"  continue:        tunelab resume {eid}{again}")
    elif record.phase.value == "TIMEOUT":
        lines.append(f"  continue:        tunelab resume {eid} --max-duration LONGER{again}")
    elif record.phase.value == "DONE" and any(t.state == TrialState.SUCCEEDED for t in trials):
        lines.append(f"  more trials:     tunelab resume {eid} --max-trials N")
    lines.append(f"  next:            tunelab trials {eid}  |  tunelab view {eid}")
    return lines


def _run_engine(
    experiment: Any,
    *,
    resume: bool,
    quiet: bool,
    dashboard: Any = None,
    keep_serving: bool = False,
    limits: dict[str, Any] | None = None,
) -> None:
    from tunelab.cli._progress import make_progress

    experiment_id = experiment.create() if not resume else experiment.id
    if dashboard is not None:
        click.echo(
            "note: the dashboard goes down when the experiment ends"
            if not keep_serving
            else "note: the dashboard keeps serving after the experiment ends, until Ctrl-C",
            err=True,
        )
    progress = make_progress(experiment_id, quiet=quiet)
    try:
        if resume:
            result = experiment.resume(listener=progress, dashboard=dashboard, limits=limits or None)
        else:
            result = experiment.run(listener=progress, dashboard=dashboard)
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
    store = getattr(experiment, "storage", None)  # None: a stand-in experiment (tests)
    if store is not None:
        for line in _hints(store, store.get_experiment(result.experiment_id)):
            click.echo(line, err=True)
    if store is not None and dashboard is not None and keep_serving:
        _serve(store, dashboard)
    if result.phase.value not in EXIT_OK_PHASES:
        sys.exit(1)


def _serve(store: Any, options: Any) -> None:
    from tunelab.server import Dashboard

    server = Dashboard(store, options)
    for note in server.notes:
        click.echo(note, err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def _limits(max_trials: int | None, max_duration: str | None, concurrency: int | None) -> dict[str, Any]:
    given = {"max_trials": max_trials, "max_duration": max_duration, "concurrency": concurrency}
    return {key: value for key, value in given.items() if value is not None}


quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress display.")
keep_serving_option = click.option(
    "--keep-serving",
    is_flag=True,
    help="With --port: keep serving the dashboard after the experiment ends, until Ctrl-C.",
)


def limit_options(command: Any) -> Any:
    for option in reversed(
        [
            click.option(
                "--max-trials", type=click.IntRange(min=1), default=None, help="Trial limit (overrides the config)."
            ),
            click.option(
                "--max-duration",
                default=None,
                metavar="DURATION",
                help="Time limit, e.g. 90s, 30m, 2h (overrides the config).",
            ),
            click.option(
                "--concurrency", type=click.IntRange(min=1), default=None, help="Trials at once (overrides the config)."
            ),
        ]
    ):
        command = option(command)
    return command


@main.command(short_help="Run the experiment described by CONFIG_FILE.")
@click.argument("config_file", type=click.Path(dir_okay=False))
@storage_option
@quiet_option
@limit_options
@click.option("--seed", type=int, default=None, help="Experiment seed (overrides the config and the tuner's seed).")
@click.option("--name", default=None, help="Experiment name (overrides the config).")
@click.option(
    "--runner",
    type=click.Choice(["local", "ray"]),
    default=None,
    help="Where trials run (overrides the config, and $TUNELAB_RAY_ADDRESS for NNI, T9k and Auptimizer files).",
)
@click.option(
    "--ray-address",
    default=None,
    metavar="ADDRESS",
    help="The Ray cluster: auto, host:port, ray://host:port, or local for a private one (implies --runner ray).",
)
@dashboard_options
@keep_serving_option
@_friendly
def run(
    config_file: str,
    storage: str | None,
    quiet: bool,
    max_trials: int | None,
    max_duration: str | None,
    concurrency: int | None,
    seed: int | None,
    name: str | None,
    runner: str | None,
    ray_address: str | None,
    port: int | None,
    host: str,
    token: str | None,
    token_file: str | None,
    read_only: bool,
    keep_serving: bool,
) -> None:
    """Run the experiment described by CONFIG_FILE.

    Options given here override the file's keys and are checked as the file is.

    Example: tunelab run config.yml --max-trials 50 --concurrency 4 --port 8080

    Example: tunelab run nni-config.yml --ray-address auto   (trials as tasks on this machine's Ray cluster)
    """
    from tunelab.engine import Experiment

    overrides: dict[str, Any] = _limits(max_trials, max_duration, concurrency)
    if storage:
        overrides["storage"] = storage
    if seed is not None:
        overrides["seed"] = seed
    if name is not None:
        overrides["name"] = name
    overrides.update(_runner_overrides(runner, ray_address))
    dashboard = serve_options(port, host, token, token_file, read_only)
    experiment = Experiment.from_file(config_file, **overrides)
    for warning in experiment.warnings:
        click.echo(f"warning: {escape(warning, 1000)}", err=True)
    experiment_id = experiment.create()
    click.echo(f"experiment {experiment_id} created ({experiment.format} config {config_file})", err=True)
    _run_engine(experiment, resume=False, quiet=quiet, dashboard=dashboard, keep_serving=keep_serving)


def _runner_overrides(runner: str | None, ray_address: str | None) -> dict[str, Any]:
    """``--runner`` and ``--ray-address`` as config keys (``from_file`` keeps the file's other ``ray`` settings)."""
    if ray_address is None:
        return {} if runner is None else {"runner": runner}
    if runner == "local":
        raise click.UsageError("--ray-address runs the trials on Ray; it cannot go with --runner local")
    address = ray_address.strip()
    if not address:
        raise click.BadParameter("give auto, host:port, ray://host:port or local", param_hint="--ray-address")
    return {"runner": "ray", "ray": {"address": None if address == "local" else address}}


@main.command(short_help="Continue a stopped, timed-out or killed experiment.")
@click.argument("experiment_id")
@storage_option
@quiet_option
@limit_options
@dashboard_options
@keep_serving_option
@_friendly
def resume(
    experiment_id: str,
    storage: str | None,
    quiet: bool,
    max_trials: int | None,
    max_duration: str | None,
    concurrency: int | None,
    port: int | None,
    host: str,
    token: str | None,
    token_file: str | None,
    read_only: bool,
    keep_serving: bool,
) -> None:
    """Continue an experiment that was stopped, timed out or killed.

    --max-trials, --max-duration and --concurrency replace the stored limits first, so an
    experiment that ended DONE or TIMEOUT continues where it stopped.

    Example: tunelab resume latest --max-trials 100
    """
    from tunelab.engine import Experiment
    from tunelab.storage import open_storage

    dashboard = serve_options(port, host, token, token_file, read_only)
    store = open_storage(storage, create=False)
    try:
        record = resolve_experiment(store, experiment_id, storage)
    finally:
        store.close()
    experiment = Experiment.load(record.id, storage=storage)
    _run_engine(
        experiment,
        resume=True,
        quiet=quiet,
        dashboard=dashboard,
        keep_serving=keep_serving,
        limits=_limits(max_trials, max_duration, concurrency),
    )


@main.command(short_help="Join a shared experiment as one more worker.")
@click.argument("experiment_id")
@storage_option
@_friendly
def worker(experiment_id: str, storage: str | None) -> None:
    """Join a shared experiment (shared: true, PostgreSQL storage) as one more worker.

    Example: tunelab worker latest --storage postgresql://host/tunelab
    """
    from tunelab.engine import Experiment
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    try:
        record = resolve_experiment(store, experiment_id, storage)
    finally:
        store.close()
    result = Experiment.load(record.id, storage=storage).work()
    click.echo(f"{record.id}: {result.phase.value}")
    if result.phase.value not in EXIT_OK_PHASES:
        sys.exit(1)


@main.command(short_help="Ask a running experiment to stop.")
@click.argument("experiment_id")
@storage_option
@_friendly
def stop(experiment_id: str, storage: str | None) -> None:
    """Ask a running experiment to stop (its engine stops running trials and ends STOPPED).

    Example: tunelab stop latest
    """
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    eid = record.id
    if record.phase.is_final:
        click.echo(f"experiment {escape(eid)} has already ended {record.phase.value}", err=True)
        return
    store.request_stop(eid)
    click.echo(f"stop requested for experiment {escape(eid)}", err=True)
    from tunelab.server._liveness import engine_liveness

    if not engine_liveness(record).responding:
        click.echo(
            f"note: its engine is not responding ({engine_liveness(record).reason}); nothing acts on the request "
            f"until `tunelab resume {escape(eid)}` continues the experiment",
            err=True,
        )


@main.command(name="list", short_help="List the stored experiments, newest first.")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def list_experiments(storage: str | None, as_json: bool) -> None:
    """List the stored experiments, newest first.

    Example: tunelab list --json
    """
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


@main.command(short_help="Show an experiment: phase, progress, best trial.")
@click.argument("experiment_id")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def show(experiment_id: str, storage: str | None, as_json: bool) -> None:
    """Show an experiment: phase, progress against its limits, best trial, config.

    Example: tunelab show latest
    """
    from tunelab.cli._views import experiment_summary, show_experiment
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    summary = experiment_summary(store, record.id)
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    show_experiment(summary)


@main.command(short_help="List an experiment's trials, one column per parameter.")
@click.argument("experiment_id")
@storage_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    help="table: for reading; csv: one column per parameter and metric; json: everything, with intermediate reports.",
)
@click.option(
    "--columns",
    default=None,
    metavar="A,B,...",
    help="Only these columns, in this order (table and csv): number, state, value, budget, attempt, duration, "
    "started, message, a parameter (lr, opt/beta, model=rf/max_depth) or a metric.",
)
@click.option("--sort", default=None, metavar="COLUMN", help="Order by this column; -COLUMN for descending.")
@click.option(
    "--state",
    "states",
    multiple=True,
    metavar="STATE[,STATE]",
    help="Only trials in these states (succeeded, failed, early_stopped, ...); repeatable.",
)
@_friendly
def trials(
    experiment_id: str, storage: str | None, fmt: str, columns: str | None, sort: str | None, states: tuple[str, ...]
) -> None:
    """List an experiment's trials: one column per parameter (nested ones as opt/beta, the
    branches of a nested choice as model=rf/max_depth) and metric, and a budget column when
    a scheduler gave budgets.

    Example: tunelab trials latest --state succeeded --sort -value --columns number,value,lr
    """
    from tunelab.cli import _trials as view
    from tunelab.storage import open_storage

    wanted = view.parse_states(states)
    if fmt == "json" and columns is not None:
        raise TunelabError("--columns: only for --format table or csv (json has every field)")
    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    records = store.get_trials(record.id, with_intermediate=fmt == "json")
    shown = [t for t in records if wanted is None or t.state in wanted]
    all_columns, rows = view.rows_of(shown)
    order = {row["number"]: i for i, row in enumerate(view.sort_rows(rows, all_columns, sort))}
    if fmt == "json":
        ordered = sorted(shown, key=lambda t: order[t.number])
        click.echo(json.dumps([view.trial_json(t) for t in ordered], indent=2, default=str))
        return
    rows = sorted(rows, key=lambda row: order[row["number"]])
    picked = view.pick_columns(all_columns, columns, table=fmt == "table", rows=rows)
    if fmt == "csv":
        buffer = io.StringIO()
        if rows:
            writer = csv.writer(buffer)
            writer.writerow([c.key for c in picked])
            writer.writerows([[row[c.key] for c in picked] for row in rows])
        click.echo(buffer.getvalue(), nl=False)
        return
    if not shown:
        which = "" if wanted is None else " in state " + ", ".join(sorted(s.value.lower() for s in wanted))
        have = f" (it has {len(records)})" if records else ""
        click.echo(f"experiment {escape(record.id)} has no trials{which} yet{have}", err=True)
        return
    count = f"{len(shown)} of {len(records)}" if wanted is not None else str(len(records))
    view.print_table(f"trials of {record.id} ({escape(record.name, 60)}): {count}", picked, rows)


@main.command(short_help="Show one trial: parameters, value, metrics, state history, logs.")
@click.argument("experiment_id")
@click.argument("number", type=click.IntRange(min=0))
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def trial(experiment_id: str, number: int, storage: str | None, as_json: bool) -> None:
    """Show trial NUMBER of an experiment: its parameters, value, metrics, state history and
    where its logs are.

    Example: tunelab trial latest 3
    """
    from tunelab.cli._trials import trial_details, trial_lines
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    details = trial_details(store, record, number)
    if as_json:
        click.echo(json.dumps(details, indent=2, default=str))
        return
    for line in trial_lines(details):
        click.echo(line)


@main.command(short_help="Print a trial's log (stdout, or --stderr); --follow while it runs.")
@click.argument("experiment_id")
@click.argument("number", type=click.IntRange(min=0))
@storage_option
@click.option("--stderr", "use_stderr", is_flag=True, help="The trial's stderr instead of its stdout.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing what the trial writes until it ends.")
@_friendly
def logs(experiment_id: str, number: int, storage: str | None, use_stderr: bool, follow: bool) -> None:
    """Print the log a trial wrote (its current attempt's stdout, or stderr with --stderr).

    Example: tunelab logs latest 3 --stderr --follow
    """
    from tunelab.cli._logs import copy_from
    from tunelab.cli._logs import follow as follow_log
    from tunelab.cli._trials import trial_details
    from tunelab.runners._files import trial_log_path
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    details = trial_details(store, record, number)
    stream: Literal["stdout", "stderr"] = "stderr" if use_stderr else "stdout"
    if not details["trial_dir"]:
        raise TunelabError(f"trial {number} of {escape(record.id)} has not started yet ({details['state']}): no logs")
    path = trial_log_path(details["trial_dir"], stream)
    sys.stdout.flush()
    out = sys.stdout.buffer
    if not follow:
        if not path.is_file():
            raise TunelabError(
                f"trial {number} of {escape(record.id)} wrote no {stream} log ({escape(path)} is missing)"
            )
        copy_from(path, 0, out)
        return

    def ended() -> bool:
        state = store.get_trial(record.id, number).state
        return state.is_final or store.get_experiment(record.id).phase.is_final

    try:
        follow_log(path, out, ended, note=lambda text: click.echo(text, err=True))
    except KeyboardInterrupt:
        pass


@main.command(short_help="Delete an experiment from storage, with its folder.")
@click.argument("experiment_id")
@storage_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask.")
@_friendly
def delete(experiment_id: str, storage: str | None, yes: bool) -> None:
    """Delete an experiment: its records in storage and its folder (trial folders, best_params.json).

    A folder the config chose (experiment_dir) keeps any file tunelab did not write there.
    A running experiment is refused: stop it first.

    Example: tunelab delete y64i --yes
    """
    from tunelab.cli._delete import remove_folder
    from tunelab.server._liveness import engine_liveness
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    eid = escape(record.id)
    if not record.phase.is_final and engine_liveness(record).responding and record.phase.value != "PENDING":
        raise TunelabError(f"experiment {eid} is running; `tunelab stop {eid}` first, then delete it")
    count = len(store.get_trials(record.id))
    what = (
        f"experiment {eid} ({escape(record.name, 60)}, {record.phase.value}, {count} trial{'' if count == 1 else 's'})"
    )
    if not yes:
        folder = f" and its folder {escape(record.experiment_dir)}" if record.experiment_dir else ""
        click.confirm(f"delete {what}{folder}?", abort=True, err=True)
    others = [r for r in store.list_experiments() if r.id != record.id]
    store.delete_experiment(record.id)
    removal = remove_folder(record, others)
    click.echo(f"deleted {what}", err=True)
    if removal.removed:
        gone = removal.removed[-1] if removal.kept is None else ", ".join(p.name for p in removal.removed)
        click.echo(f"  removed {escape(gone)}", err=True)
    if removal.kept is not None:
        click.echo(f"  kept {escape(removal.kept)}: {removal.reason}", err=True)


@main.command(short_help="The best parameters and value found so far.")
@click.argument("experiment_id")
@storage_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@_friendly
def best(experiment_id: str, storage: str | None, as_json: bool) -> None:
    """The best parameters and value found so far.

    Only trials that SUCCEEDED count; ties go to the earlier trial. With several objectives:
    every trial of the Pareto front (succeeded, within the constraints), the knee suggested.

    Example: tunelab best latest --json
    """
    from tunelab.storage import TrialState, best_trial, objectives_of, open_storage

    store = open_storage(storage, create=False)
    record = resolve_experiment(store, experiment_id, storage)
    experiment_id = record.id
    trials = store.get_trials(experiment_id)
    objectives = objectives_of(record.config)
    if objectives:  # several objectives: the whole Pareto front, the knee suggested
        from tunelab.cli._front import front_data, front_lines

        front = front_data(record, trials, objectives)
        click.echo(json.dumps(front, indent=2, default=str) if as_json else "\n".join(front_lines(front)))
        return
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


@main.command(short_help="Check CONFIG_FILE without running it.")
@click.argument("config_file", type=click.Path(dir_okay=False))
@_friendly
def validate(config_file: str) -> None:
    """Check CONFIG_FILE without running it: everything `tunelab run` checks before the first trial.

    Example: tunelab validate config.yml
    """
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


@main.command(short_help="Serve the dashboard over stored experiments.")
@click.argument("experiment_id", required=False)
@storage_option
@view_options
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
    """Serve the dashboard over stored experiments (running or ended) until Ctrl-C.

    Example: tunelab view latest --port 8080
    """
    from tunelab.storage import open_storage

    store = open_storage(storage, create=False)
    if experiment_id is not None:
        experiment_id = resolve_experiment(store, experiment_id, storage).id
    options = serve_options(port, host, token, token_file, read_only, experiment_id)
    _serve(store, options)
