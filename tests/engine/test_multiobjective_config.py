"""Declaring several objectives: YAML, Python, and the one-line errors for what does not fit together."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tunelab import Experiment
from tunelab.cli import main
from tunelab.config import build_config, load_config
from tunelab.errors import ConfigError

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


def test_yaml_objectives_keep_their_order_and_constraints_are_read(tmp_path):
    (tmp_path / "train.py").write_text("")
    path = tmp_path / "config.yml"
    path.write_text(
        "search_space: {x: {_type: uniform, _value: [0, 1]}}\n"
        "trial: {command: python3 train.py}\n"
        "objectives: {latency_ms: min, accuracy: maximize, size: min}\n"
        'constraints: {model_mb: "<= 50", recall: ">= 0.8"}\n'
    )
    config = load_config(path).config
    assert list(config.objectives or ()) == ["latency_ms", "accuracy", "size"]
    assert config.objectives == {"latency_ms": "min", "accuracy": "max", "size": "min"}
    assert config.constraints == {"model_mb": "<= 50", "recall": ">= 0.8"}
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "max"}, "config: mode: give either mode (one objective) or objectives (several), not both"),
        ({"metric": "acc"}, "config: metric: give either metric (one objective) or objectives (several), not both"),
        ({"tuner": {"name": "tpe", "args": {"optimize_mode": "maximize"}}}, "config: tuner.args.optimize_mode: give"),
        ({"objectives": {"a": "up", "b": "min"}}, "objectives.a: expected 'min' or 'max', got 'up'"),
        ({"objectives": {"default": "max", "b": "min"}}, "'default' is NNI's key for a single result"),
        ({"objectives": {}}, "objectives: expected a mapping of objective name to 'min' or 'max'"),
        ({"constraints": {"mb": "< 5"}}, 'config: constraints.mb: expected "<= number" or ">= number", got \'< 5\''),
        ({"constraints": {"mb": "<= lots"}}, "constraints.mb: expected"),
    ],
)
def test_what_does_not_fit_is_one_line_naming_the_field(settings, message):
    data = {"search_space": SPACE, "objectives": {"acc": "max", "lat": "min"}, **settings}
    with pytest.raises(ConfigError) as info:
        build_config(data)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_constraints_need_several_objectives():
    with pytest.raises(ConfigError, match="constraints: only for several objectives"):
        build_config({"search_space": SPACE, "constraints": {"mb": "<= 5"}})
    with pytest.raises(ConfigError, match="constraints: only for several objectives"):
        build_config({"search_space": SPACE, "objectives": {"acc": "max"}, "constraints": {"mb": "<= 5"}})


def test_one_objective_is_metric_and_mode():
    config = build_config({"search_space": SPACE, "objectives": {"accuracy": "maximize"}})
    assert (config.objectives, config.metric, config.mode) == (None, "accuracy", "max")


def test_a_one_objective_tuner_or_scheduler_is_refused_with_several(tmp_path):
    (tmp_path / "train.py").write_text("")
    path = tmp_path / "config.yml"
    path.write_text(
        "search_space: {x: {_type: uniform, _value: [0, 1]}}\ntrial: {command: python3 train.py}\n"
        "objectives: {accuracy: max, size: min}\ntuner: tpe\n"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code != 0 and "tuner" in result.output and "objective" in result.output, result.output
    path.write_text(
        "search_space: {x: {_type: uniform, _value: [0, 1]}}\ntrial: {command: python3 train.py}\n"
        "objectives: {accuracy: max, size: min}\ntuner: random\nscheduler: {name: asha, args: {max_t: 9}}\n"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code != 0 and "scheduler" in result.output, result.output


def test_python_api_takes_objectives_and_refuses_mode_beside_them():
    experiment = Experiment(objective=lambda p: {}, search_space=SPACE, objectives={"acc": "max", "lat": "min"})
    assert experiment.config.objectives == {"acc": "max", "lat": "min"}
    with pytest.raises(ConfigError, match="mode: give either mode"):
        Experiment(objective=lambda p: {}, search_space=SPACE, mode="max", objectives={"acc": "max", "lat": "min"})
