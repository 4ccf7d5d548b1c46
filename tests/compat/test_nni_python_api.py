"""NNI's Python API (``nni.experiment.Experiment``) and the ``tunelab python`` launcher.

Fast tests drive the API in this process on command trials (``python -c ...``); the launcher
and the tutorial run as a user runs them, through ``tunelab python`` in a subprocess.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tunelab.errors import ConfigError, StorageError, TunelabError
from tunelab.runners import TrialJob
from tunelab.runners._files import trial_environment
from tunelab.storage import Phase, RequestKind, TrialState, open_storage
from tunelab.trial._compat_path import SHIMS_DIR, shim_packages, shims_path, with_shims

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "nni_python_api"

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "k": {"_type": "choice", "_value": ["a", "b"]}}
#: A trial that reports twice, with NNI's dict result carrying its own trial id.
TRIAL = (
    "import nni; p = nni.get_next_parameters(); nni.report_intermediate_result(p['x']); "
    "nni.report_final_result({'default': p['x'] * 2, 'id': nni.get_trial_id()})"
)


@pytest.fixture
def nni(monkeypatch):
    """The ``nni`` compatibility package, imported in this process from the shims folder."""
    monkeypatch.syspath_prepend(str(SHIMS_DIR))
    for name in [m for m in sys.modules if m == "nni" or m.startswith("nni.")]:
        monkeypatch.delitem(sys.modules, name)
    import nni

    assert Path(nni.__file__).resolve().is_relative_to(SHIMS_DIR)
    yield nni
    for name in [m for m in sys.modules if m == "nni" or m.startswith("nni.")]:
        sys.modules.pop(name, None)


def _experiment(nni, tmp_path, command: str = f'python -c "{TRIAL}"', trials: int = 3):
    experiment = nni.experiment.Experiment("local")
    config = experiment.config
    config.trial_command = command
    config.trial_code_directory = str(tmp_path)
    config.search_space = SPACE
    config.tuner.name = "Random"
    config.tuner.class_args["seed"] = 3
    config.max_trial_number = trials
    config.trial_concurrency = 2
    return experiment


def _wait(predicate, what: str, limit: float = 120.0):
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------------- config


def test_config_has_nni_fields_placeholders_and_refuses_unknown_ones(nni, tmp_path, monkeypatch):
    from nni.experiment import AlgorithmConfig, ExperimentConfig, LocalConfig

    experiment = nni.experiment.Experiment("local")
    assert experiment.config.tuner.class_args == {}
    experiment.config.tuner.class_args["optimize_mode"] = "maximize"
    with pytest.raises(AttributeError, match="does not have field trial_comand; did you mean 'trial_command'"):
        experiment.config.trial_comand = "python t.py"
    with pytest.raises(AttributeError, match="use_active_gpus"):
        LocalConfig(use_active_gpus=True)
    # camelCase works in constructors, as in NNI; nested dicts become config objects
    config = ExperimentConfig(trialCommand="python t.py", tuner={"name": "TPE"}, training_service={"platform": "local"})
    assert config.trial_command == "python t.py" and isinstance(config.tuner, AlgorithmConfig.__mro__[1])
    assert isinstance(config.training_service, LocalConfig)


def test_every_v2_field_reaches_tunelabs_experiment(nni, tmp_path, monkeypatch):
    from nni.experiment import AlgorithmConfig, ExperimentConfig, LocalConfig
    from nni.experiment._convert import to_tunelab

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "space.json").write_text(json.dumps(SPACE))
    monkeypatch.chdir(tmp_path)  # relative paths are taken from the folder current when the config is made
    config = ExperimentConfig(
        experiment_name="named",
        search_space_file="code/space.json",
        trial_command="python -c pass",
        trial_code_directory="code",
        trial_concurrency=3,
        trial_gpu_number=0,
        max_experiment_duration="2h",
        max_trial_number=7,
        max_trial_duration="90s",
        experiment_working_directory="work",
        tuner=AlgorithmConfig(name="TPE", class_args={"optimize_mode": "maximize", "seed": 5}),
        assessor=AlgorithmConfig(name="Medianstop", class_args={"start_step": 2}),
        training_service=LocalConfig(use_active_gpu=False),
    )
    monkeypatch.chdir("/")
    tl, warnings, workdir = to_tunelab(config)
    assert tl.name == "named" and set(tl.space().describe()) == {"x", "k"}
    assert tl.trial.command == "python -c pass" and tl.trial.code_dir == tmp_path / "code"
    assert (tl.concurrency, tl.max_trials, tl.max_duration, tl.trial.timeout) == (3, 7, 7200, 90)
    assert (tl.tuner.name, tl.mode, tl.seed) == ("TPE", "max", 5)
    assert tl.assessor is not None and tl.assessor.args == {"start_step": 2}
    assert workdir == tmp_path / "work" and tl.trial.compat == ["nni"]

    advisor = ExperimentConfig(
        "local", trial_command="python -c pass", search_space=SPACE, trial_concurrency=1, trial_code_directory=tmp_path
    )
    advisor.advisor.name = "Hyperband"
    advisor.advisor.class_args.update(optimize_mode="maximize", R=9, eta=3)
    tl, _, _ = to_tunelab(advisor)
    assert tl.scheduler is not None and tl.scheduler.name == "hyperband" and tl.mode == "max"


def test_config_errors_name_the_field(nni, tmp_path):
    from nni.experiment._convert import to_tunelab

    experiment = _experiment(nni, tmp_path)
    experiment.config.tuner.name = "TPX"
    with pytest.raises(ConfigError, match=r"Experiment.config: tuner\.name: unknown tuner .TPX.; did you mean .tpe."):
        to_tunelab(experiment.config)
    experiment = _experiment(nni, tmp_path)
    experiment.config.use_annotation = True
    with pytest.raises(ConfigError, match="use_annotation: NNI annotation is not supported"):
        experiment.config.validate()
    with pytest.raises(ValueError, match="Invalid experiment ID"):
        nni.experiment.Experiment("local", id="no spaces")


# ---------------------------------------------------------------------- running


def test_run_returns_true_and_the_results_read_as_nnis(nni, tmp_path):
    experiment = _experiment(nni, tmp_path)
    assert experiment.get_status() == "INITIALIZED"
    assert experiment.run(port=0) is True
    try:
        assert experiment.get_status() == "DONE"
        port = experiment.port
        assert _get(port, "/api/info")["experiment_id"] == experiment.id  # the dashboard stays up until stop()

        results = sorted(experiment.export_data(), key=lambda r: r.trialJobId)
        jobs = sorted(experiment.list_trial_jobs(), key=lambda j: j.trialJobId)
        assert len(results) == 3 and len(jobs) == 3
        for result, job in zip(results, jobs, strict=True):
            assert result.value == {"default": result.parameter["x"] * 2, "id": result.trialJobId}
            assert job.trialJobId == result.trialJobId and job.status == "SUCCEEDED"
            assert job.hyperParameters[0].parameters == result.parameter
            assert job.finalMetricData[0].data == result.value and job.finalMetricData[0].type == "FINAL"
            assert job.endTime >= job.startTime > 0
        assert experiment.get_job_statistics() == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 3}]
        metrics = experiment.get_job_metrics(jobs[0].trialJobId)[jobs[0].trialJobId]
        assert [m.type for m in metrics] == ["PERIODICAL", "FINAL"]
        assert metrics[0].data == jobs[0].hyperParameters[0].parameters["x"]

        profile = experiment.get_experiment_profile()
        assert profile["id"] == experiment.id and profile["nextSequenceId"] == 3 and "endTime" in profile
        assert profile["params"]["maxTrialNumber"] == 3 and profile["params"]["searchSpace"] == SPACE

        connected = nni.experiment.Experiment.connect(port)
        assert connected.id == experiment.id and connected.get_status() == "DONE"
        assert connected.config is not None and connected.config.max_trial_number == 3
    finally:
        experiment.stop()
    assert experiment.port is None
    with pytest.raises(OSError):
        _get(port, "/api/info")


def test_run_returns_false_when_the_experiment_ends_in_error(nni, tmp_path):
    experiment = _experiment(nni, tmp_path, command='python -c "raise SystemExit(3)"', trials=1)
    assert experiment.run(port=None) is False
    assert experiment.get_status() == "ERROR"
    assert experiment.export_data() == []
    assert [j.status for j in experiment.list_trial_jobs()] == ["FAILED"]


def test_a_chosen_id_is_used_and_cannot_be_taken_twice(nni, tmp_path):
    config = _experiment(nni, tmp_path, trials=1).config
    first = nni.experiment.Experiment(config, id="my-exp_1")
    assert first.run(port=None) is True and first.id == "my-exp_1"
    assert open_storage().get_experiment("my-exp_1").phase == Phase.DONE
    with pytest.raises(StorageError, match="exists already; resume it"):
        nni.experiment.Experiment(config, id="my-exp_1").run(port=None)


def _gated_trial(tmp_path: Path) -> Path:
    """``trial.py`` in ``tmp_path``: each trial waits while the returned gate file exists, then reports its x."""
    gate = tmp_path / "hold"
    gate.write_text("")
    (tmp_path / "trial.py").write_text(
        textwrap.dedent(
            f"""
            import os, time, nni
            p = nni.get_next_parameter()
            while os.path.exists({str(gate)!r}):
                time.sleep(0.05)
            nni.report_final_result(p["x"])
            """
        )
    )
    return gate


def test_start_update_stop_resume_and_view(nni, tmp_path):
    gate = _gated_trial(tmp_path)  # the experiment is running while we change it
    experiment = _experiment(nni, tmp_path, command="python trial.py", trials=2)
    experiment.config.trial_concurrency = 1
    experiment.start(port=0)
    try:
        _wait(lambda: experiment.get_status() == "RUNNING" and experiment.list_trial_jobs(), "a running trial")
        assert experiment.list_trial_jobs()[0].status in ("WAITING", "RUNNING")
        experiment.update_trial_concurrency(2)
        experiment.update_max_trial_number(3)
        experiment.update_max_experiment_duration("1h")
        with pytest.raises(ConfigError, match="update_trial_concurrency: expected an integer >= 1"):
            experiment.update_trial_concurrency(0)
        store = open_storage()
        payloads = [r.payload for r in store.get_requests(experiment.id, open_only=False)]
        assert all(r.kind == RequestKind.UPDATE_LIMITS for r in store.get_requests(experiment.id, open_only=False))
        assert {"concurrency": 2} in payloads and {"max_trials": 3} in payloads and {"max_duration": 3600.0} in payloads
        _wait(lambda: experiment.get_experiment_profile()["params"]["maxTrialNumber"] == 3, "the new limit")
    finally:
        experiment.stop()
    assert experiment.get_status() == "STOPPED"
    with pytest.raises(TunelabError, match="not running; change the limit and continue it"):
        experiment.update_max_trial_number(4)

    gate.unlink()
    again = nni.experiment.Experiment(None, id=experiment.id)
    try:
        assert again.resume(0) is True and again.port is not None
        assert again.config is not None and again.config.max_trial_number == 2  # the config it was started with
        assert nni.experiment.Experiment(None, id=experiment.id).get_status() == "DONE"
        trials = open_storage().get_trials(experiment.id)
        assert len(trials) == 3 and all(t.state == TrialState.SUCCEEDED for t in trials)
    finally:
        again.stop()

    viewer = nni.experiment.Experiment.view(experiment.id, 0, non_blocking=True)
    try:
        assert viewer.get_status() == "VIEWED" and viewer.config.trial_command == "python trial.py"
        assert _get(viewer.port, "/api/info") == {
            "version": _get(viewer.port, "/api/info")["version"],
            "read_only": True,
            "experiment_id": experiment.id,
        }
    finally:
        viewer.stop()
    with pytest.raises(RuntimeError, match="does not exist thus cannot be resumed"):
        nni.experiment.Experiment.resume("nosuchexp", 0)  # NNI 2's spelling


NEW_SPACE = {"x": {"_type": "uniform", "_value": [5, 6]}, "k": {"_type": "choice", "_value": ["c"]}}


def test_update_search_space_of_a_running_experiment_applies_to_trials_not_yet_suggested(nni, tmp_path):
    gate = _gated_trial(tmp_path)
    experiment = _experiment(nni, tmp_path, command="python trial.py", trials=4)
    experiment.config.tuner.name = "TPE"
    experiment.config.trial_concurrency = 1
    experiment.start(port=0)
    try:
        _wait(lambda: [t.status for t in experiment.list_trial_jobs()] == ["RUNNING"], "the first trial running")
        with pytest.raises(ConfigError, match="search_space"):
            experiment.update_search_space({"x": {"_type": "uniform", "_value": [1, 0]}})
        experiment.update_search_space(NEW_SPACE)
        assert experiment.config.search_space == NEW_SPACE and experiment.get_status() == "RUNNING"
        gate.unlink()
        _wait(lambda: experiment.get_status() == "DONE", "the experiment's end", limit=300)
    finally:
        experiment.stop()
    trials = sorted(open_storage().get_trials(experiment.id), key=lambda t: t.number)
    assert [t.state for t in trials] == [TrialState.SUCCEEDED] * 4, [t.error for t in trials]
    assert 0 <= trials[0].params["x"] <= 1 and trials[0].attempt == 2  # suggested before: runs again as it was
    assert all(5 <= t.params["x"] <= 6 and t.params["k"] == "c" for t in trials[1:]), [t.params for t in trials]
    stored = open_storage().get_experiment(experiment.id).config["search_space"]
    assert stored == NEW_SPACE  # a later resume keeps it


def test_update_search_space_before_the_start_and_after_the_end(nni, tmp_path):
    experiment = _experiment(nni, tmp_path, trials=1)
    experiment.update_search_space(NEW_SPACE)  # not started: the config's
    assert experiment.config.search_space == NEW_SPACE
    assert experiment.run(0) is True
    experiment.stop()
    (trial,) = open_storage().get_trials(experiment.id)
    assert trial.params["k"] == "c"
    experiment.update_search_space(SPACE)  # ended: kept for resume
    assert open_storage().get_experiment(experiment.id).config["search_space"] == SPACE


def test_trace_typehint_and_get_next_parameters(nni, monkeypatch):
    import nni.typehint as typehint

    @nni.trace
    class Model:
        def __init__(self, width, depth=2):
            self.width, self.depth = width, depth

    model = Model(8, depth=3)
    assert isinstance(model, Model) and (model.width, model.depth) == (8, 3)
    assert model.trace_symbol.__name__ == "Model" and model.trace_kwargs == {"width": 8, "depth": 3}

    def make(a, *rest, b=1):
        return {"a": a}

    traced = nni.trace(kw_only=True)(make)
    assert traced(1, 2, b=3) == {"a": 1}  # a dict carries no attributes: returned unchanged
    monkeypatch.setenv("NNI_TRACE_FLAG", "disable")
    assert nni.trace(make) is make
    assert typehint.Parameters == dict[str, object] or typehint.TrialMetric is float
    assert nni.get_next_parameters() == {} and nni.Experiment is nni.experiment.Experiment


# ---------------------------------------------------------------------- the launcher


def _tunelab(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "tunelab.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _fake_site(tmp_path: Path) -> Path:
    """A folder with a real-looking ``nni`` and ``bigdl.orca.automl`` installed (each says REAL)."""
    site = tmp_path / "site"
    for package in ("nni", "bigdl", "bigdl/orca", "bigdl/orca/automl"):
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text("REAL = True\n")
    return site


PROBE = (
    "import nni, aup, bigdl.orca.automl as automl; "
    "print(getattr(nni, 'REAL', False), getattr(automl, 'REAL', False), aup.__file__)"
)


def test_launcher_runs_scripts_and_modules_with_the_shims(tmp_path):
    (tmp_path / "tool.py").write_text("import sys, nni, aup\nprint(nni.__file__, aup.__file__, sys.argv[1:])\n")
    result = _tunelab("python", "-m", "tool", "a", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    nni_file, aup_file, argv = result.stdout.split(" ", 2)
    assert Path(nni_file).resolve().is_relative_to(SHIMS_DIR) and Path(aup_file).resolve().is_relative_to(SHIMS_DIR)
    assert argv.strip() == "['a', '--help']"
    (tmp_path / "script.py").write_text("import sys, nni\nsys.exit(7)\n")
    assert _tunelab("python", "script.py", cwd=tmp_path).returncode == 7
    killed = _tunelab("python", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)", cwd=tmp_path)
    assert killed.returncode == -signal.SIGTERM  # the process is the script's: its signal is the exit status
    helped = _tunelab("python", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "tunelab python main.py" in helped.stdout


def test_an_installed_package_is_never_shadowed_by_the_launcher(tmp_path):
    site = _fake_site(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = _tunelab("python", "-c", PROBE, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    real_nni, real_bigdl, aup_file = result.stdout.split()
    assert real_nni == "True" and real_bigdl == "True" and Path(aup_file).resolve().is_relative_to(SHIMS_DIR)

    # Without the real packages, the shims folder itself is the entry; with some, links to the others.
    assert shims_path("") == str(SHIMS_DIR)
    overlay = shims_path(str(site))
    assert overlay is not None and sorted(os.listdir(overlay)) == [
        n for n in shim_packages() if n not in ("nni", "bigdl")
    ]
    # An earlier shims entry (a launcher's) is replaced, never kept ahead of the real package.
    assert with_shims({"PYTHONPATH": os.pathsep.join([str(SHIMS_DIR), str(site)])})["PYTHONPATH"] == os.pathsep.join(
        [overlay, str(site)]
    )


def test_a_trial_gets_the_trial_api_it_asks_for_and_the_real_other_packages(tmp_path):
    """A trial talks to tunelab through the ``nni`` it asked for (a real NNI would wait for NNI's
    manager forever); the other packages follow the launcher's rule."""
    site = _fake_site(tmp_path)
    job = TrialJob(
        experiment_id="e",
        number=0,
        attempt=1,
        params={},
        trial_dir=tmp_path / "trial",
        command="python -c pass",
        code_dir=tmp_path,
        compat=("nni",),
        env={"PYTHONPATH": str(site)},
    )
    seen = subprocess.run(
        [sys.executable, "-c", PROBE], env=trial_environment(job), capture_output=True, text=True, timeout=120
    )
    assert seen.returncode == 0, seen.stderr
    real_nni, real_bigdl, aup_file = seen.stdout.split()
    assert (real_nni, real_bigdl) == ("False", "True") and Path(aup_file).resolve().is_relative_to(SHIMS_DIR)
    plain = trial_environment(dataclasses.replace(job, env={}), base={"PATH": os.environ["PATH"]})
    assert plain["PYTHONPATH"].split(os.pathsep)[0] == str(SHIMS_DIR)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_nni_quickstart_tutorial_runs_with_tunelab_python(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    for name in ("main.py", "model.py"):
        shutil.copy(EXAMPLE / name, tmp_path / name)
    main = (tmp_path / "main.py").read_text()
    assert "experiment.config.max_trial_number = 10" in main
    (tmp_path / "main.py").write_text(main.replace("max_trial_number = 10", "max_trial_number = 3"))
    env = {**os.environ, "EPOCHS": "1", "SAMPLES": "300"}
    result = _tunelab("python", "main.py", cwd=tmp_path, env=env, timeout=1100)
    assert result.returncode == 0, result.stderr
    assert "Web portal URLs: http://127.0.0.1:" in result.stderr
    store = open_storage()
    [record] = store.list_experiments()
    trials = store.get_trials(record.id, with_intermediate=True)
    assert record.phase == Phase.DONE and record.format == "nni" and record.config["mode"] == "max"
    assert len(trials) == 3 and all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all(len(t.intermediate) == 1 and 0.0 <= t.value <= 1.0 for t in trials)
    assert {t.params["features"] for t in trials} <= {128, 256, 512, 1024}


SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def _tutorial_statements(text: str) -> list[str]:
    """The statements of the code blocks of a Sphinx-Gallery page (``.. code-block:: default``)."""
    blocks, current, inside = [], [], False
    for line in text.splitlines():
        if line.startswith(".. code-block::"):
            inside, current = True, []
            continue
        if inside and line and not line.startswith(" "):
            inside = False
            blocks.append(textwrap.dedent("\n".join(current)))
        elif inside:
            current.append(line)
    return [ast.dump(node) for block in blocks for node in ast.parse(block).body]


def test_the_example_driver_is_the_tutorials_statement_for_statement():
    seeds = sorted(SEED.glob("002_*.txt")) if SEED.is_dir() else []
    if not seeds:
        pytest.skip(f"the tutorial's page (seed 002) is not in {SEED}")
    expected = _tutorial_statements(seeds[0].read_text())
    body = ast.parse((EXAMPLE / "main.py").read_text()).body
    ours = [
        ast.dump(node) for node in body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    assert len(expected) == 12 and ours == expected
