"""`tunelab validate FILE` and `tunelab run FILE` accept and reject exactly the same configs.

``validate``'s verdict is the CLI command's exit code. ``run``'s is everything it does before the
first trial: :meth:`Experiment.from_file`, ``create()`` and building the engine (tuner, scheduler,
runner). Broken configs here each passed ``validate`` before and then failed (or misbehaved) in
``run``, or hung ``validate``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from tunelab.cli import main
from tunelab.errors import TunelabError

EXAMPLES = Path(__file__).parents[2] / "examples"
EXAMPLE_CONFIGS = sorted(
    p for p in EXAMPLES.rglob("*") if p.name in ("config.yml", "experiment.yaml", "experiment.json")
)

SPACE = "search_space: {x: {_type: uniform, _value: [0, 1]}, k: {_type: choice, _value: [a, b]}}\n"
CHOICES = "search_space: {k: {_type: choice, _value: [a, b]}}\n"
TRIAL = "trial: {command: python3 train.py}\n"

#: name -> (file name, text); every one of these must be rejected by both.
BROKEN = {
    "program typo": ("c.yml", SPACE + "trial: {command: pyhton3 train.py}\n"),
    "script typo": ("c.yml", SPACE + "trial: {command: python3 trian.py}\n"),
    "absolute program missing": ("c.yml", SPACE + "trial: {command: /no/such/python3 train.py}\n"),
    "no trial at all": ("c.yml", SPACE),
    "code_dir missing": ("c.yml", SPACE + "trial: {command: python3 train.py, code_dir: nowhere}\n"),
    "function missing": ("c.yml", SPACE + "trial: {function: 'no_such_module:f'}\n"),
    "tpe value": ("c.yml", SPACE + TRIAL + "tuner: {name: tpe, args: {n_startup_jobs: -1}}\n"),
    "tpe liar": ("c.yml", SPACE + TRIAL + "tuner: {name: tpe, args: {constant_liar_type: often}}\n"),
    "gp value": ("c.yml", SPACE + TRIAL + "tuner: {name: gp, args: {max_points: 3}}\n"),
    "evolution sizes": (
        "c.yml",
        SPACE + TRIAL + "tuner: {name: evolution, args: {population_size: 2, sample_size: 3}}\n",
    ),
    "grid points": ("c.yml", SPACE + TRIAL + "tuner: {name: grid, args: {n_points: 1}}\n"),
    "anneal value": ("c.yml", SPACE + TRIAL + "tuner: {name: anneal, args: {avg_best_idx: 0.5}}\n"),
    "cmaes without numbers": ("c.yml", CHOICES + TRIAL + "tuner: cmaes\n"),
    "unknown tuner argument": ("c.yml", SPACE + TRIAL + "tuner: {name: tpe, args: {n_startup: 3}}\n"),
    "seed not an int": ("c.yml", SPACE + TRIAL + "tuner: {name: random, args: {seed: -1}}\n"),
    "batch configs": ("c.yml", SPACE + TRIAL + "tuner: {name: batch, args: {configs: [{x: 5, k: a}]}}\n"),
    "mode contradicts assessor": (
        "c.yml",
        SPACE + TRIAL + "mode: min\nassessor: {name: median, args: {optimize_mode: maximize}}\n",
    ),
    "mode contradicts scheduler": ("c.yml", SPACE + TRIAL + "mode: max\nscheduler: {name: asha, args: {mode: min}}\n"),
    "asha grace above max": (
        "c.yml",
        SPACE + TRIAL + "scheduler: {name: asha, args: {max_t: 3, grace_period: 9}}\n",
    ),
    "unknown assessor argument": ("c.yml", SPACE + TRIAL + "assessor: {name: median, args: {start_stp: 3}}\n"),
    "enqueue outside the space": ("c.yml", SPACE + TRIAL + "enqueue: [{x: 7, k: a}]\n"),
    "storage scheme": ("c.yml", SPACE + TRIAL + "storage: 'redis://localhost/0'\n"),
    "gpus without gpus": ("c.yml", SPACE + TRIAL + "gpus_per_trial: 1\ngpu_indices: []\n"),
    "gpus above the count": ("c.yml", SPACE + TRIAL + "gpus_per_trial: 3\ngpu_indices: [0, 1]\n"),
    "nni code directory": (
        "config.yml",
        "searchSpace: {x: {_type: uniform, _value: [0, 1]}}\ntrialCommand: python3 train.py\n"
        "trialCodeDirectory: nowhere\ntuner: {name: TPE}\n",
    ),
    "nni modes contradict": (
        "config.yml",
        "searchSpace: {x: {_type: uniform, _value: [0, 1]}}\ntrialCommand: python3 train.py\n"
        "tuner: {name: TPE, classArgs: {optimize_mode: maximize}}\n"
        "assessor: {name: Medianstop, classArgs: {optimize_mode: minimize}}\n",
    ),
    "nni program typo": (
        "config.yml",
        "searchSpace: {x: {_type: uniform, _value: [0, 1]}}\ntrialCommand: pyhton3 train.py\ntuner: {name: Random}\n",
    ),
    "t9k working dir in the image": (
        "experiment.yaml",
        (EXAMPLES / "t9k" / "experiment.yaml").read_text().replace("workingDir: .", "workingDir: /mnt/in-image"),
    ),
    "t9k modes contradict": (
        "experiment.yaml",
        (EXAMPLES / "t9k" / "experiment.yaml").read_text()
        + '  assessor:\n    builtinAssessorName: Medianstop\n    classArgs: \'{"optimize_mode": "maximize"}\'\n',
    ),
}

#: Configs both must accept (beyond the examples): shell pipelines and programs in code_dir are not second-guessed.
VALID = {
    "pipeline": ("c.yml", SPACE + "trial: {command: 'pyhton3 train.py | cat'}\n"),
    "program in code_dir": ("c.yml", SPACE + "trial: {command: ./run.sh}\n"),
    "mode from an argument": ("c.yml", SPACE + TRIAL + "assessor: {name: median, args: {optimize_mode: maximize}}\n"),
    "modes agree": ("c.yml", SPACE + TRIAL + "mode: max\nscheduler: {name: asha, args: {mode: max}}\n"),
    "python -m": ("c.yml", SPACE + "trial: {command: python3 -m train}\n"),
}


def _project(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / "train.py").write_text("print('hi')\n")
    (tmp_path / "run.sh").write_text("#!/bin/sh\n")
    (tmp_path / "run.sh").chmod(0o755)
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def validate_verdict(path: Path) -> bool:
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code in (0, 2), result.output  # 2: a ConfigError, never a traceback
    if result.exit_code:
        assert len(result.output.strip().splitlines()[-1]) > 0
    return result.exit_code == 0


def run_verdict(path: Path, storage: Path) -> bool:
    """Everything `tunelab run` does before the first trial; True when the experiment would start."""
    from tunelab.engine import Engine, Experiment

    try:
        experiment = Experiment.from_file(path, storage=f"sqlite:///{storage}")
        experiment.create()
        engine = Engine(
            storage=experiment.storage,
            experiment_id=experiment.id,
            config=experiment.config,
            objective=experiment.objective,
        )
        for params in experiment.config.enqueue:  # the engine's first step, before any trial
            engine.tuner.enqueue(params)
    except TunelabError:
        return False
    engine.runner.close()
    return True


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS, ids=lambda p: p.parent.name)
def test_every_example_is_accepted_by_both(path, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_HOME", str(tmp_path / "home"))
    assert validate_verdict(path) and run_verdict(path, tmp_path / "db.sqlite")


@pytest.mark.parametrize("case", sorted(BROKEN), ids=str)
def test_broken_configs_are_rejected_by_both(case, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_HOME", str(tmp_path / "home"))
    path = _project(tmp_path, *BROKEN[case])
    assert (validate_verdict(path), run_verdict(path, tmp_path / "db.sqlite")) == (False, False)


@pytest.mark.parametrize("case", sorted(VALID), ids=str)
def test_unusual_but_valid_configs_are_accepted_by_both(case, tmp_path, monkeypatch):
    monkeypatch.setenv("TUNELAB_HOME", str(tmp_path / "home"))
    path = _project(tmp_path, *VALID[case])
    assert (validate_verdict(path), run_verdict(path, tmp_path / "db.sqlite")) == (True, True)


def test_the_examples_are_all_found():
    assert {p.parent.name for p in EXAMPLE_CONFIGS} >= {"quickstart", "nni_mnist_style", "t9k", "auptimizer"}
