"""TFX's tuner_fn: ``tunelab tfx-tune`` and ``run_tuner_fn``, best_hyperparameters.txt, the tfx modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tunelab
from tunelab import keras_tuner
from tunelab.errors import ConfigError, ExperimentFailed

MODULE = textwrap.dedent(
    """
    from tfx import v1 as tfx
    from tfx.components.trainer.fn_args_utils import FnArgs
    from tfx.components.tuner.component import TunerFnResult

    from tunelab import keras_tuner

    class BlackBox(keras_tuner.Tuner):
        def run_trial(self, trial, offset=0.0):
            if trial.hyperparameters.get("x") is None:
                raise ValueError("no x")
            return (trial.hyperparameters.get("x") - offset) ** 2

    def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
        assert tfx.components.FnArgs is FnArgs and tfx.components.TunerFnResult is TunerFnResult
        hp = keras_tuner.HyperParameters()
        hp.Float("x", -2.0, 2.0)
        hp.Choice("kind", ["a", "b"])
        tuner = BlackBox(
            hyperparameters=hp,
            max_trials=fn_args.custom_config.get("max_trials", 4),
            seed=1,
            directory=fn_args.working_dir,
            project_name="tfx_search",
        )
        fit_kwargs = {"offset": 0.5, **fn_args.custom_config.get("fit", {})}
        return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs=fit_kwargs)
    """
)


@pytest.fixture
def module_file(tmp_path: Path) -> Path:
    path = tmp_path / "module.py"
    path.write_text(MODULE)
    return path


def test_run_tuner_fn_writes_the_best_hyperparameters_in_tfx_layout(tmp_path: Path, module_file: Path) -> None:
    path = keras_tuner.run_tuner_fn(module_file, tmp_path / "work", custom_config={"max_trials": 5})
    assert path == tmp_path / "work" / "best_hyperparameters" / "best_hyperparameters.txt"
    config = json.loads(path.read_text())
    assert [item["config"]["name"] for item in config["space"]] == ["x", "kind"]
    hp = keras_tuner.HyperParameters.from_config(config)
    assert abs(hp.get("x") - 0.5) < 1.5 and hp.get("kind") in ("a", "b")
    assert tunelab.load_best(tmp_path / "work") == config["values"] == tunelab.load_best(path)
    assert "tfx" not in [Path(p).name for p in sys.path]  # the compatibility folder was taken away again


def test_a_real_kerastuner_reads_the_file(tmp_path: Path, module_file: Path) -> None:
    kt = pytest.importorskip("keras_tuner")
    path = keras_tuner.run_tuner_fn(module_file, tmp_path / "work", custom_config={"max_trials": 3})
    hp = kt.HyperParameters.from_config(json.loads(path.read_text()))
    assert hp.values == tunelab.load_best(path)


def test_tuner_fn_returning_a_real_kerastuner_tuner(tmp_path: Path) -> None:
    pytest.importorskip("keras_tuner")
    module = tmp_path / "real_module.py"
    module.write_text(
        textwrap.dedent(
            """
            import keras_tuner
            from tfx import v1 as tfx

            class BlackBox(keras_tuner.RandomSearch):
                def run_trial(self, trial, **kwargs):
                    return (trial.hyperparameters.Float("x", -1.0, 1.0) - 0.25) ** 2

            def tuner_fn(fn_args):
                tuner = BlackBox(max_trials=3, directory=fn_args.working_dir, project_name="p", seed=3)
                return tfx.components.TunerFnResult(tuner=tuner, fit_kwargs={})
            """
        )
    )
    path = keras_tuner.run_tuner_fn(module, tmp_path / "work")
    assert set(json.loads(path.read_text())["values"]) == {"x"}


def test_bad_modules_are_one_line_errors(tmp_path: Path, module_file: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(ConfigError, match="empty.py: the module has no function tuner_fn"):
        keras_tuner.run_tuner_fn(empty, tmp_path / "w1")
    with pytest.raises(ConfigError, match="module_file: .* is not a file"):
        keras_tuner.run_tuner_fn(tmp_path / "missing.py", tmp_path / "w2")
    with pytest.raises(ExperimentFailed, match="no trial of tfx_search succeeded"):  # nothing succeeded: no file
        keras_tuner.run_tuner_fn(module_file, tmp_path / "w3", custom_config={"max_trials": 2, "fit": {"offset": "a"}})
    assert not (tmp_path / "w3" / "best_hyperparameters").exists()


def _tunelab(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("tunelab")), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env=dict(os.environ))


@pytest.mark.slow
def test_cli_tfx_tune(tmp_path: Path, module_file: Path) -> None:
    done = _tunelab(
        "tfx-tune", str(module_file), "--working-dir", "work", "--custom-config", '{"max_trials": 3}', cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "best hyperparameters written to work/best_hyperparameters/best_hyperparameters.txt" in done.stderr
    assert "Search space summary" in done.stdout
    listed = _tunelab("list", cwd=tmp_path)
    assert "tfx_search" in listed.stdout
    bad = _tunelab("tfx-tune", str(module_file), "--working-dir", "w", "--custom-config", "{oops", cwd=tmp_path)
    assert bad.returncode != 0 and "--custom-config: not valid JSON" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_tunelab_python_makes_tfx_importable(tmp_path: Path) -> None:
    code = "from tfx import v1 as tfx; print(tfx.components.FnArgs(working_dir='w').working_dir)"
    done = _tunelab("python", "-c", code, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "w", done.stderr


def test_load_best_reads_tfx_files_and_names_what_is_wrong(tmp_path: Path) -> None:
    from tunelab.errors import StorageError

    folder = tmp_path / "work" / "best_hyperparameters"
    folder.mkdir(parents=True)
    (folder / "best_hyperparameters.txt").write_text(json.dumps({"space": [], "values": {"units": 32}}))
    assert tunelab.load_best(tmp_path / "work") == {"units": 32} == tunelab.load_best(folder)
    (folder / "best_hyperparameters.txt").write_text("{not json")
    with pytest.raises(StorageError, match="best_hyperparameters.txt is not valid JSON"):
        tunelab.load_best(folder)
    (folder / "best_hyperparameters.txt").write_text(json.dumps({"values": {}}))
    with pytest.raises(StorageError, match="neither a 'params' mapping nor KerasTuner's 'space' and 'values'"):
        tunelab.load_best(folder / "best_hyperparameters.txt")
