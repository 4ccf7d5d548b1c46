"""Orca's AutoEstimator semantics: search_alg and scheduler names, PBT at any epochs, thresholds, DataFrames."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from tunelab import AutoEstimator, hp  # noqa: E402
from tunelab.errors import ConfigError, SearchSpaceError  # noqa: E402
from tunelab.integrations._orca import (  # noqa: E402
    SEARCH_ALGS,
    init_orca_context,
    orca_search_alg,
    ray_context,
    resolve_computed,
    stop_orca_context,
)
from tunelab.schedulers import create_scheduler  # noqa: E402
from tunelab.tuners import create_tuner  # noqa: E402


def _blobs(n: int = 64, seed: int = 0, shift: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype("int64")
    x = (rng.normal(size=(n, 4)) + y[:, None] * shift).astype("float32")
    return x, y


def _linear_estimator() -> AutoEstimator:
    return AutoEstimator.from_torch(
        model_creator=lambda config: nn.Linear(4, 2), optimizer="SGD", loss="CrossEntropyLoss"
    )


def test_pbt_runs_with_orca_default_of_one_epoch():
    """Orca's default epochs=1 is below PBT's default perturbation interval (4): one generation, no perturbation."""
    pbt = create_scheduler("pbt", mode="max", space={"lr": hp.uniform(0.01, 0.1)}, population_size=3, max_t=1)
    assert (pbt.perturbation_interval, pbt.trials_for(3), pbt.budget(0)) == (1, 3, 1)
    est = _linear_estimator()
    est.fit(
        _blobs(), epochs=1, metric="accuracy", search_space={"lr": hp.uniform(0.01, 0.1)}, n_sampling=3, scheduler="pbt"
    )
    assert len(est.result.trials) == 3
    assert all(len(t.intermediate) == 1 and t.value is not None for t in est.result.trials)


# ------------------------------------------------------------------ search_alg names
ORCA_SEARCHERS = [
    "variant_generator",
    "random",
    "optuna",
    "hyperopt",
    "skopt",
    "bayesopt",
    "ax",
    "dragonfly",
    "hebo",
    "sigopt",
    "nevergrad",
    "zoopt",
    "bohb",
    "blendsearch",
    "cfo",
]


@pytest.mark.parametrize("name", ORCA_SEARCHERS)
def test_every_orca_search_alg_runs_a_library_adapter_or_warns_naming_both(name):
    plan = orca_search_alg(name, {"seed": 3})
    entry = SEARCH_ALGS[name]
    assert plan.args.get("seed") == 3
    if plan.warnings:
        assert plan.tuner == entry.nearest
        assert f"search_alg {name!r}" in plan.warnings[0]
        assert f"running tunelab's {entry.nearest!r} instead" in plan.warnings[0]
    else:  # only a library that is installed and has an adapter runs without a warning
        assert plan.tuner == entry.adapter
        assert entry.package is None or importlib.util.find_spec(entry.package) is not None
    create_tuner(plan.tuner, {"lr": hp.uniform(0.0, 1.0)}, **plan.args)  # the tuner it names exists


def test_optuna_and_hyperopt_run_the_libraries_with_rays_arguments():
    pytest.importorskip("optuna")
    pytest.importorskip("hyperopt")
    optuna_plan = orca_search_alg("optuna", {"sampler": "TPESampler", "metric": "accuracy", "mode": "max"})
    assert (optuna_plan.tuner, optuna_plan.args, optuna_plan.warnings) == ("optuna", {"sampler": "TPESampler"}, ())
    points = [{"lr": 0.5}]
    hyperopt_plan = orca_search_alg("hyperopt", {"n_initial_points": 5, "points_to_evaluate": points})
    assert hyperopt_plan.args == {"n_startup_jobs": 5} and hyperopt_plan.enqueue == points
    with pytest.raises(ConfigError, match="'gamma' is not an argument tunelab's hyperopt adapter takes"):
        orca_search_alg("hyperopt", {"gamma": 0.25})


def test_a_searcher_without_adapter_warns_and_says_so_in_the_experiment():
    """Before, bayesopt quietly ran tunelab's GP; now the user is told, in Python and in the stored experiment."""
    est = _linear_estimator()
    with pytest.warns(UserWarning) as caught:
        est.fit(
            _blobs(),
            metric="accuracy",
            search_space={"lr": hp.uniform(0.01, 0.1)},
            n_sampling=2,
            search_alg="bayesopt",
            search_alg_params={"utility_kwargs": {"kind": "ucb"}, "random_state": 0},
        )
    shown = [str(w.message) for w in caught]
    assert any(
        re.match(r"search_alg 'bayesopt' \(BayesianOptimization.*running tunelab's 'gp' instead", m) for m in shown
    )
    assert est.experiment.config.tuner.name == "gp" and est.experiment.config.tuner.args == {"seed": 0}
    stored = est.experiment.storage.get_experiment(est.experiment.id).warnings
    assert any("'bayesopt'" in w and "'gp'" in w for w in stored)
    assert any("search_alg_params for 'bayesopt' not used by tunelab's 'gp': utility_kwargs" in w for w in stored)


def test_skopt_runs_scikit_optimize_through_the_adapter():
    pytest.importorskip("skopt")
    est = _linear_estimator()
    est.fit(
        _blobs(),
        metric="accuracy",
        search_space={"lr": hp.uniform(0.01, 0.1)},
        n_sampling=3,
        search_alg="skopt",
        search_alg_params={"n_initial_points": 2},
    )
    assert est.experiment.config.tuner.name == "scikitoptimize"
    assert est.experiment.storage.get_experiment(est.experiment.id).warnings == ()
    assert len(est.result.trials) == 3 and all(t.value is not None for t in est.result.trials)


# ------------------------------------------------------------------ schedulers
def test_pb2_runs_pbt_with_a_warning_and_replay_and_resource_changing_are_refused():
    est = _linear_estimator()
    with pytest.warns(UserWarning, match="scheduler 'pb2'.*running tunelab's 'pbt' instead"):
        est.fit(
            _blobs(),
            epochs=2,
            metric="accuracy",
            search_space={"lr": hp.uniform(0.01, 0.1)},
            n_sampling=2,
            scheduler="pb2",
            scheduler_params={"perturbation_interval": 1, "hyperparam_bounds": {"lr": [0.01, 0.1]}},
        )
    assert est.experiment.config.scheduler.name == "pbt"
    assert est.experiment.config.scheduler.args["hyperparam_mutations"] == ["lr"]
    assert len(est.result.trials) == 4  # two members, two generations of one epoch
    with pytest.raises(ConfigError, match="pbt_replay.*policy file"):
        est.fit(_blobs(), search_space={"lr": 0.1}, scheduler="pbt_replay")
    with pytest.raises(ConfigError, match="resource_changing.*resources_per_trial"):
        est.fit(_blobs(), search_space={"lr": 0.1}, scheduler="resource_changing")


# ------------------------------------------------------------------ metric_threshold, DataFrames
def test_metric_threshold_stops_a_trial_that_reaches_it():
    """Orca's TrialStopper: a trial whose metric reaches the threshold stops; below it, all epochs run."""
    est = _linear_estimator()
    est.fit(
        _blobs(),
        epochs=4,
        metric="accuracy",
        metric_threshold=0.0,
        search_space={"lr": hp.choice([0.05, 0.1])},
        n_sampling=2,
    )
    assert [len(t.intermediate) for t in est.result.trials] == [1, 1]
    est.fit(_blobs(), epochs=4, metric="mse", metric_threshold=-1.0, search_space={"lr": 0.05}, n_sampling=1)
    assert [len(t.intermediate) for t in est.result.trials] == [4]
    with pytest.raises(ConfigError, match="metric_threshold must be a number"):
        est.fit(_blobs(), metric_threshold="high", search_space={"lr": 0.05})


def test_n_sampling_minus_one_runs_until_the_space_is_used_up_and_says_so():
    """Ray Tune's num_samples=-1: no limit on trials; a space of grid and choice values ends when it is used up."""
    est = _linear_estimator()
    space = {"lr": hp.grid_search([0.05, 0.1]), "momentum": hp.choice([0.0, 0.5])}
    with pytest.warns(UserWarning, match=r"n_sampling=-1: trials run until the search space is used up"):
        est.fit(_blobs(), epochs=1, metric="accuracy", search_space=space, n_sampling=-1)
    assert est.experiment.config.max_trials is None
    assert est.result.phase.value == "DONE" and "search space is exhausted" in est.result.message
    assert sorted((t.params["lr"], t.params["momentum"]) for t in est.result.trials) == [
        (0.05, 0.0),
        (0.05, 0.5),
        (0.1, 0.0),
        (0.1, 0.5),
    ]
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ConfigError, match=r"n_sampling must be a positive integer or -1 \(no limit\)"):
            est.fit(_blobs(), search_space={"lr": 0.05}, n_sampling=bad)


class _OnlyFeatures(nn.Module):
    """A linear model that fails on any input holding the DataFrame's 1e6 "noise" column."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x):
        if x.shape[1] != 4 or float(x.abs().max()) > 1e3:
            raise ValueError(f"the model got the wrong columns: {x.shape[1]}, max {float(x.abs().max())}")
        return self.linear(x)


def _integer_labels(y_true, y_pred) -> float:
    """1.0 when the targets are 1-D class labels and the outputs one row of scores per sample."""
    return float(
        y_true.ndim == 1 and y_true.dtype.kind == "i" and set(np.unique(y_true)) <= {0, 1} and y_pred.ndim == 2
    )


def test_feature_and_label_columns_of_a_dataframe():
    pd = pytest.importorskip("pandas")
    x, y = _blobs()
    frame = pd.DataFrame({**{f"f{i}": x[:, i] for i in range(4)}, "noise": 1e6, "label": y})
    est = AutoEstimator.from_torch(
        model_creator=lambda config: _OnlyFeatures(), optimizer="SGD", loss="CrossEntropyLoss"
    )
    est.fit(
        frame,
        validation_data=frame,
        metric=_integer_labels,
        metric_mode="max",
        search_space={"lr": 0.1},
        feature_cols=["f0", "f1", "f2", "f3"],
        label_cols="label",
    )
    assert est.best_value == 1.0
    with pytest.raises(ConfigError, match="no column 'lable'; did you mean 'label'"):
        est.fit(frame, search_space={"lr": 0.1}, feature_cols=["f0"], label_cols=["lable"])
    with pytest.raises(ConfigError, match="feature_cols is required"):
        est.fit(frame, search_space={"lr": 0.1}, label_cols=["label"])
    with pytest.raises(ConfigError, match="select columns of a pandas DataFrame"):
        est.fit(_blobs(), search_space={"lr": 0.1}, feature_cols=["f0"], label_cols=["label"])


# ------------------------------------------------------------------ Orca's hp, metrics, context
def test_orca_hp_functions_match_rays_bounds_and_choice_n_draws_as_orca():
    from tunelab.integrations import _orca_hp as ohp
    from tunelab.space import Float, Int, Normal

    assert isinstance(ohp.uniform(0, 1), Float) and isinstance(ohp.randn(0, 1), Normal)
    assert (ohp.randint(1, 4).low, ohp.randint(1, 4).high) == (1, 3)  # upper excluded, as Ray's randint
    assert (ohp.qrandint(1, 4, 1).low, ohp.qrandint(1, 4, 1).high) == (1, 4)
    assert isinstance(ohp.qloguniform(1e-3, 1.0, 1e-3, base=2), Float) and isinstance(ohp.qrandint(0, 9, 3), Int)
    assert ohp.grid_search([1, 2]).grid_search and ohp.qrandn(0, 1, 0.5).q == 0.5
    draws = [resolve_computed({}, {"items": ohp.choice_n(list("abcde"), 1, 3)}, seed)["items"] for seed in range(200)]
    assert {len(d) for d in draws} == {1, 2}  # numpy's randint(1, 3): sizes 1 and 2, never 3
    assert all(len(set(d)) == len(d) and set(d) <= set("abcde") for d in draws)
    assert draws == [resolve_computed({}, {"items": ohp.choice_n(list("abcde"), 1, 3)}, s)["items"] for s in range(200)]
    with pytest.raises(SearchSpaceError, match="min_items"):
        ohp.choice_n([1, 2], 3, 4)


def test_sample_from_sees_the_sampled_config_and_reaches_the_model_and_best_config():
    from tunelab.integrations import _orca_hp as ohp

    seen = []

    def model_creator(config):
        seen.append(config)
        return nn.Sequential(nn.Linear(4, config["width"]), nn.ReLU(), nn.Linear(config["width"], 2))

    est = AutoEstimator.from_torch(model_creator=model_creator, optimizer="SGD", loss="CrossEntropyLoss")
    space = {
        "double": ohp.sample_from(lambda spec: spec.config.width * 2),
        "width": ohp.choice([3, 5]),
        "lr": 0.1,
        "acts": ohp.choice_n(["relu", "tanh", "gelu"], 1, 3),
    }
    est.fit(_blobs(), metric="accuracy", search_space=space, n_sampling=3)
    assert "double" not in est.experiment.config.search_space  # computed in the trial, not searched
    best = est.get_best_config()
    assert best["double"] == 2 * best["width"] and 1 <= len(best["acts"]) <= 2
    assert isinstance(est.get_best_model(), nn.Sequential)
    assert seen[-1] == best  # get_best_model rebuilt the model from the configuration it trained


def test_orca_evaluator_metrics_match_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    from tunelab.integrations._orca_metrics import Evaluator

    rng = np.random.default_rng(1)
    y, p = rng.uniform(0.1, 2.0, size=(30, 2)), rng.uniform(0.1, 2.0, size=(30, 2))
    for name, reference in [
        ("mse", metrics.mean_squared_error),
        ("mae", metrics.mean_absolute_error),
        ("r2", metrics.r2_score),
        ("msle", metrics.mean_squared_log_error),
    ]:
        ours = Evaluator.evaluate(name, y, p, multioutput="raw_values")
        np.testing.assert_allclose(ours, reference(y, p, multioutput="raw_values"))
    assert Evaluator.evaluate("smape", [1.0, 2.0], [1.0, 2.0]) == pytest.approx(0.0)
    assert Evaluator.evaluate("mape", [2.0], [1.0]) == pytest.approx(50.0)
    assert Evaluator.evaluate("accuracy", [[0], [1], [1]], [[0.2], [0.7], [0.4]]) == pytest.approx(2 / 3)
    assert (Evaluator.get_metric_mode("r2"), Evaluator.get_metric_mode("smape")) == ("max", "min")
    with pytest.raises(ConfigError, match="did you mean 'smape'"):
        Evaluator.evaluate("smap", y, p)
    # fit takes Orca's metric names too, with Orca's direction
    est = AutoEstimator.from_torch(model_creator=lambda config: nn.Linear(4, 1), optimizer="SGD", loss="MSELoss")
    x, _ = _blobs()
    est.fit((x, x.sum(axis=1, keepdims=True) + 10.0), metric="smape", search_space={"lr": 0.01})
    assert est.experiment.config.mode == "min" and est.best_value is not None


def test_init_orca_context_starts_nothing_locally_and_refuses_unknown_modes():
    context = init_orca_context(cluster_mode="local", cores=2, memory="4g")
    assert not context.ray and ray_context() is None
    stop_orca_context()
    with pytest.raises(ConfigError, match="cluster_mode 'yarn-clinet'.*did you mean 'yarn-client'"):
        init_orca_context(cluster_mode="yarn-clinet")


def test_a_dataloader_is_data_as_orca_takes_it():
    x, y = _blobs()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), 16)
    est = _linear_estimator()
    est.fit(loader, validation_data=loader, metric="accuracy", search_space={"lr": 0.1})
    assert est.best_value is not None and len(est.result.trials) == 1


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs ray")
def test_joining_an_address_where_no_cluster_listens_is_refused_at_once():
    """ray.init would retry such an address for minutes; the error names the mode and the address."""
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(
        ConfigError,
        match=rf"cluster_mode='yarn-client' runs trials on Ray: no Ray cluster answers at '127.0.0.1:{port}'",
    ):
        init_orca_context(cluster_mode="yarn-client", address=f"127.0.0.1:{port}")
    assert ray_context() is None
