"""``tunelab tfx-tune``: TFX's Tuner component on one machine, without TFX (see :mod:`tunelab.keras_tuner._tfx`)."""

from __future__ import annotations

import json
from typing import Any

import click

from tunelab.cli._errors import friendly
from tunelab.errors import ConfigError

_EPILOG = """\b
More:
  tunelab tfx-tune module.py --working-dir work --train-files data/train.npz \\
      --eval-files data/eval.npz --custom-config '{"epochs": 5}' --num-parallel-trials 2

The best hyperparameters go to WORKING_DIR/best_hyperparameters/best_hyperparameters.txt
(the JSON of HyperParameters.get_config(), as TFX's Tuner writes it); a Trainer's run_fn reads
it with keras_tuner.HyperParameters.from_config, and tunelab.load_best reads it too.
"""


def _custom_config(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--custom-config: not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--custom-config: must be a JSON object, got {type(value).__name__}")
    return value


@click.command(
    name="tfx-tune", short_help="Run a TFX module's tuner_fn and write best_hyperparameters.txt.", epilog=_EPILOG
)
@click.argument("module_file", type=click.Path(dir_okay=False))
@click.option("--working-dir", required=True, type=click.Path(file_okay=False), help="FnArgs.working_dir.")
@click.option("--train-files", multiple=True, help="FnArgs.train_files (repeat the option for several).")
@click.option("--eval-files", multiple=True, help="FnArgs.eval_files (repeat the option for several).")
@click.option("--train-steps", type=click.IntRange(min=1), default=None, help="FnArgs.train_steps.")
@click.option("--eval-steps", type=click.IntRange(min=1), default=None, help="FnArgs.eval_steps.")
@click.option("--schema-path", default=None, help="FnArgs.schema_path.")
@click.option("--transform-graph-path", default=None, help="FnArgs.transform_graph_path.")
@click.option("--serving-model-dir", default=None, help="FnArgs.serving_model_dir.")
@click.option("--custom-config", default=None, help="FnArgs.custom_config, a JSON object.")
@click.option("--num-parallel-trials", type=click.IntRange(min=1), default=1, help="Trials at once (TFX's TuneArgs).")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where best_hyperparameters.txt goes (default: WORKING_DIR/best_hyperparameters).",
)
@friendly
def tfx_tune(
    module_file: str,
    working_dir: str,
    train_files: tuple[str, ...],
    eval_files: tuple[str, ...],
    train_steps: int | None,
    eval_steps: int | None,
    schema_path: str | None,
    transform_graph_path: str | None,
    serving_model_dir: str | None,
    custom_config: str | None,
    num_parallel_trials: int,
    output_dir: str | None,
) -> None:
    """Run MODULE_FILE's tuner_fn(fn_args) as TFX's Tuner component does, with tunelab.

    The tuner it returns (a tunelab.keras_tuner or a real KerasTuner tuner) searches with the
    returned fit_kwargs; `from tfx import v1 as tfx` works in the module without TFX installed.

    Example: tunelab tfx-tune module.py --working-dir work --train-files data/train.npz
    """
    from tunelab.keras_tuner import run_tuner_fn

    path = run_tuner_fn(
        module_file,
        working_dir,
        train_files=train_files,
        eval_files=eval_files,
        train_steps=train_steps,
        eval_steps=eval_steps,
        schema_path=schema_path,
        transform_graph_path=transform_graph_path,
        serving_model_dir=serving_model_dir,
        custom_config=_custom_config(custom_config),
        num_parallel_trials=num_parallel_trials,
        output_dir=output_dir,
    )
    click.echo(f"best hyperparameters written to {path}", err=True)
