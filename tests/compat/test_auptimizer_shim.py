"""tunelab's ``aup`` inside an experiment: what a job reports, where Auptimizer's own helpers cannot be compared.

(Outside an experiment the helpers are compared with Auptimizer 2.0 itself in
test_auptimizer_differential.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tunelab.engine import Experiment
from tunelab.storage import TrialState


def run(tmp_path, body: str, **changes):
    (tmp_path / "train.py").write_text(textwrap.dedent(body))
    config = {
        "proposer": "random",
        "n_samples": 2,
        "random_seed": 0,
        "script": "train.py",
        "target": "max",
        "parameter_config": [{"name": "x", "range": [1, 3], "type": "float"}],
        "job_failure": {"job_retries": 0, "ignore_fail": True},
        **changes,
    }
    (tmp_path / "experiment.json").write_text(json.dumps(config))
    return Experiment.from_file(tmp_path / "experiment.json", storage=f"sqlite:///{tmp_path}/db.sqlite").run()


def test_a_function_returning_none_after_printing_keeps_the_last_printed_result(tmp_path):
    result = run(
        tmp_path,
        """
        import sys
        from aup import aup_args, print_result

        @aup_args
        def main(x):
            for epoch in range(3):
                print_result(x * (epoch + 1))

        main(sys.argv[1])
        """,
    )
    for trial in result.trials:
        assert trial.state == TrialState.SUCCEEDED
        assert trial.value == pytest.approx(3 * trial.params["x"])
        assert [r.value for r in trial.intermediate] == pytest.approx([trial.params["x"] * k for k in (1, 2, 3)])


def test_numbers_printed_as_text_count_and_other_text_fails_the_job_saying_so(tmp_path):
    result = run(
        tmp_path,
        """
        import sys
        from aup import BasicConfig, print_result

        config = BasicConfig().load(sys.argv[1])
        print_result(str(config.x))
        if config.job_id == 1:
            print_result("training results")
        """,
    )
    first, second = sorted(result.trials, key=lambda t: t.number)
    assert first.state == TrialState.SUCCEEDED and first.value == pytest.approx(first.params["x"])
    assert second.state == TrialState.FAILED
    assert "a result must be a number, got 'training results'" in second.message


def test_kwargs_receives_the_hyperparameters_and_job_keys(tmp_path):
    result = run(
        tmp_path,
        """
        import sys
        from aup import aup_args

        @aup_args
        def main(**kwargs):
            assert sorted(kwargs) == ["job_id", "x"], kwargs
            return [kwargs["x"] * 2, kwargs["job_id"]]

        main(sys.argv[1])
        """,
        resource_args={"multi_res_labels": ["job"]},
    )
    for trial in result.trials:
        assert trial.state == TrialState.SUCCEEDED, trial.message
        assert trial.value == pytest.approx(2 * trial.params["x"]) and trial.metrics["job"] == trial.number


def test_tunelab_python_runs_python_m_aup(tmp_path):
    launcher = [sys.executable, "-m", "tunelab.cli", "python"]
    if subprocess.run([*launcher, "--help"], capture_output=True, timeout=60).returncode != 0:
        pytest.skip("`tunelab python` (the driver-script launcher) is not in this build")
    (tmp_path / "train.py").write_text(
        "import sys\nfrom aup import aup_args\n\n@aup_args\ndef f(x):\n    return -x\n\nf(sys.argv[1])\n"
    )
    (tmp_path / "experiment.json").write_text(
        json.dumps(
            {
                "proposer": "random",
                "n_samples": 2,
                "script": "train.py",
                "parameter_config": [{"name": "x", "range": [0, 1], "type": "float"}],
            }
        )
    )
    done = subprocess.run(
        [*launcher, "-m", "aup", "experiment.json"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "ended DONE" in done.stderr


def test_aup_experiment_python_api_runs_the_experiment(tmp_path):
    shims = Path(__file__).resolve().parents[2] / "src" / "tunelab" / "trial" / "_shims"
    (tmp_path / "train.py").write_text(
        "import sys\nfrom aup import aup_args\n\n@aup_args\ndef f(x):\n    return x\n\nf(sys.argv[1])\n"
    )
    config = {
        "proposer": "random",
        "n_samples": 3,
        "script": "train.py",
        "target": "max",
        "resource": "gpu",
        "parameter_config": [{"name": "x", "range": [0, 1], "type": "float"}],
    }
    (tmp_path / "experiment.json").write_text(json.dumps(config))
    (tmp_path / "driver.py").write_text(
        textwrap.dedent(
            """
            from aup import BasicConfig, Experiment
            e = Experiment(BasicConfig().load("experiment.json"))
            e.add_suspend_signal()
            e.start()
            result = e.finish()
            print(result.phase.value, len(result.trials), e.eid == result.experiment_id)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "driver.py"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(shims)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["DONE", "3", "True"]
    assert "warning: resource: 'gpu' resources are not supported" in done.stderr
