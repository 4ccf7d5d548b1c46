"""Orca scripts with only ``bigdl.orca`` / ``zoo.orca`` imports run under tunelab's compatibility modules.

The scripts run as ``tunelab python SCRIPT`` runs them: a fresh interpreter with the
compatibility folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tunelab

SHIMS = Path(tunelab.__file__).parent / "trial" / "_shims"
SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "orca_upstream_style" / "autoestimator_pytorch.py"
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def _python(code_or_script: list[str], home: Path, timeout: float = 240, **env: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(SHIMS), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, *code_or_script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": path, "TUNELAB_HOME": str(home), **env},
    )


def test_bigdl_and_zoo_import_paths_are_tunelabs(tmp_path):
    code = """
import bigdl.orca.automl.auto_estimator as a, zoo.orca.automl.auto_estimator as b
from bigdl.orca.automl import hp
from zoo.orca.automl import hp as zhp
from bigdl.orca.automl.pytorch_utils import LR_NAME, DEFAULT_LR, PYTORCH_OPTIM_NAMES
from zoo.orca.automl.pytorch_utils import LR_NAME as ZLR
from bigdl.orca.automl.metrics import Evaluator
from zoo.orca.automl.metrics import Evaluator as ZEvaluator
from bigdl.orca import init_orca_context, stop_orca_context
from zoo.orca import init_orca_context as zinit
import tunelab
names = ["uniform", "quniform", "loguniform", "qloguniform", "randn", "qrandn", "randint", "qrandint",
         "choice", "choice_n", "sample_from", "grid_search"]
print(a.AutoEstimator is b.AutoEstimator is tunelab.AutoEstimator, LR_NAME, ZLR, DEFAULT_LR,
      "Adam" in PYTORCH_OPTIM_NAMES, Evaluator is ZEvaluator, zinit is init_orca_context,
      all(getattr(hp, n) is getattr(zhp, n) for n in names), sorted(set(names) - set(hp.__all__)))
"""
    result = _python(["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["True", "lr", "lr", "0.001", "True", "True", "True", "True", "[]"]


def test_shims_are_not_importable_without_the_launchers_path():
    """Importing tunelab puts no bigdl or zoo on the path, so it never hides a real installation."""
    code = (
        "import tunelab, tunelab.integrations.estimator, importlib.util as u;"
        "print(u.find_spec('bigdl'), u.find_spec('zoo'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.split() == ["None", "None"]


def test_a_real_package_earlier_on_the_path_wins(tmp_path):
    real = tmp_path / "site" / "bigdl"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("REAL = True\n")
    result = _python(
        ["-c", "import bigdl; print(getattr(bigdl, 'REAL', False))"],
        tmp_path,
        PYTHONPATH=os.pathsep.join([str(tmp_path / "site"), str(SHIMS)]),
    )
    assert result.stdout.strip() == "True", result.stderr[-2000:]


def _check_run(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-4000:]
    accuracy = re.search(r"Evaluate: accuracy is ([\d.]+)", result.stdout)
    assert accuracy, result.stdout
    assert 0.0 <= float(accuracy[1]) <= 1.0
    best = re.search(r"best config: (\{.*\})", result.stdout)
    assert best, result.stdout
    config = ast.literal_eval(best[1])  # a dict literal printed by the script
    assert set(config) == {"dropout", "fc1_size", "fc2_size", "lr", "batch_size"}
    assert 0.2 <= config["dropout"] <= 0.3 and config["lr"] in (0.001, 0.003, 0.01)
    return config


def _stored(home: Path) -> list[dict]:
    from tunelab.storage import open_storage

    store = open_storage(home / "tunelab.db", create=False)
    return [{"config": e.config, "trials": store.get_trials(e.id)} for e in store.list_experiments()]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_upstream_style_script_runs_on_the_local_runner(tmp_path):
    # Any --cluster_mode but local/yarn/k8s skips init_orca_context in the script: trials are local processes.
    result = _python([str(SCRIPT), "--cluster_mode", "none", "--trials", "3", "--cpus_per_trial", "1"], tmp_path)
    _check_run(result)
    (experiment,) = _stored(tmp_path)
    assert experiment["config"]["runner"] == "local"
    assert len(experiment["trials"]) == 3 and all(t.value is not None for t in experiment["trials"])


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("ray") is None, reason="needs torch and ray"
)
def test_upstream_style_script_with_init_ray_on_spark_runs_its_trials_on_ray(tmp_path):
    """The script's default: init_orca_context(cluster_mode="local", init_ray_on_spark=True) starts Ray on 127.0.0.1."""
    result = _python(
        [str(SCRIPT), "--trials", "2", "--cpus_per_trial", "1", "--cores", "2"], tmp_path, timeout=280, **RAY_ENV
    )
    _check_run(result)
    assert "memory configure Spark, which tunelab does not run; ignored" in result.stderr
    (experiment,) = _stored(tmp_path)
    assert experiment["config"]["runner"] == "ray"
    assert len(experiment["trials"]) == 2 and all(t.value is not None for t in experiment["trials"])
    assert experiment["config"]["ray"]["resources_per_trial"] == {"cpu": 1.0}


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_tunelab_python_runs_the_script_unchanged(tmp_path):
    """The command the migration guide gives: `tunelab python SCRIPT`, with no PYTHONPATH of the user's."""
    cli = Path(sys.executable).parent / "tunelab"
    if not cli.exists():
        pytest.skip("the tunelab command is not installed next to this interpreter")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(cli), "python", str(SCRIPT), "--cluster_mode", "none", "--trials", "2", "--cpus_per_trial", "1"],
        capture_output=True,
        text=True,
        timeout=240,
        env={**env, "TUNELAB_HOME": str(tmp_path)},
    )
    _check_run(result)
