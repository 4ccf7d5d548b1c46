"""Names, aliases and argument checks, and the translations of NNI, Orca and Auptimizer settings."""

from __future__ import annotations

import pytest

from tunelab.config import build_config
from tunelab.errors import ConfigError
from tunelab.schedulers import (
    ASHAScheduler,
    BOHBScheduler,
    Combined,
    CurveFitting,
    FIFOScheduler,
    HyperbandScheduler,
    MedianStop,
    PBTScheduler,
    build_scheduler,
    create_scheduler,
    from_auptimizer,
    from_auptimizer_proposer,
    from_nni,
    from_orca,
    nni_tuner_is_scheduler,
)

SPACE = {"lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]}, "units": {"_type": "choice", "_value": [32, 64]}}


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("Medianstop", MedianStop),
        ("median_stopping_rule", MedianStop),
        ("Curvefitting", CurveFitting),
        ("fifo", FIFOScheduler),
        ("async_hyperband", ASHAScheduler),
        ("AsyncHyperBand", ASHAScheduler),
        ("hyperband", HyperbandScheduler),
        ("Hyperband", HyperbandScheduler),
        ("hb_bohb", BOHBScheduler),
        ("BOHB", BOHBScheduler),
        ("pbt", PBTScheduler),
        ("PBTTuner", PBTScheduler),
    ],
)
def test_names_users_type(name: str, cls: type) -> None:
    assert type(create_scheduler(name, space=SPACE)) is cls


def test_other_systems_argument_spellings() -> None:
    hb = create_scheduler("hyperband", R=27, eta=3, optimize_mode="maximize")
    assert (hb.max_budget, hb.eta, hb.mode) == (27, 3, "max")
    orca = create_scheduler("hyperband", max_t=50, reduction_factor=3, metric="mean_loss", mode="min")
    assert (orca.max_budget, orca.eta) == (50, 3)
    asha = create_scheduler("AsyncHyperBand", max_t=50, grace_period=1, reduction_factor=3, brackets=3)
    assert (asha.max_t, asha.grace_period, asha.eta, asha.brackets) == (50, 1, 3, 3)


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("asha", {"grace_priod": 1}, "unknown argument 'grace_priod'; did you mean 'grace_period'?"),
        ("Medianstop", {"start_stpe": 2}, "did you mean 'start_step'?"),
        ("Curvefitting", {"epoch_num": 0}, "epoch_num must be an integer >= 1, but got 0"),
        ("hyperband", {"eta": 1}, "eta must be a number > 1.0"),
        ("hyperband", {"R": 9, "max_t": 9}, "'max_budget' is given twice"),
        ("asha", {"grace_period": 10, "max_t": 5}, "grace_period <= max_t must hold"),
        ("asha", {"time_attr": "time_total_s"}, "time_attr must be 'training_iteration'"),
        ("Medinstop", {}, "unknown scheduler 'Medinstop'; did you mean 'median'?"),
        ("pbt_replay", {}, "not available in tunelab yet"),
        ("pbt", {"hyperparam_mutations": ["nope"]}, "'nope' is not a parameter"),
    ],
)
def test_wrong_arguments_get_clear_errors(name: str, args: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        create_scheduler(name, space=SPACE, **args)
    assert message in str(info.value)


def test_mode_contradiction_is_an_error() -> None:
    with pytest.raises(ConfigError, match="contradicts"):
        create_scheduler("median", mode="min", optimize_mode="maximize")


def test_config_sections_are_validated_and_combined() -> None:
    base = {"search_space": SPACE, "trial": "python train.py", "mode": "max"}
    config = build_config({**base, "scheduler": {"name": "asha", "args": {"max_t": 9}}, "assessor": "median"})
    scheduler = build_scheduler(config)
    assert isinstance(scheduler, Combined) and scheduler.mode == "max"
    assert config.scheduler.budget_param is None  # only NNI's Hyperband/BOHB and Auptimizer pass it as a parameter
    assert isinstance(build_scheduler(build_config(base)), FIFOScheduler)
    assert isinstance(build_scheduler(build_config({**base, "scheduler": "bohb"})), BOHBScheduler)
    with pytest.raises(ConfigError, match=r"config: scheduler: .*did you mean 'max_t'\?"):
        build_config({**base, "scheduler": {"name": "asha", "args": {"maxt": 9}}})
    with pytest.raises(ConfigError, match=r"config: assessor: .*unknown assessor 'medain'"):
        build_config({**base, "assessor": "medain"})
    with pytest.raises(ConfigError, match="scheduler.budget_parm: unknown field; did you mean 'budget_param'"):
        build_config({**base, "scheduler": {"name": "asha", "budget_parm": "epochs"}})
    with pytest.raises(ConfigError, match="trial.stop_grace"):
        build_config({**base, "trial": {"command": "x", "stop_grace": "soon"}})


def test_nni_translation() -> None:
    assert from_nni("Medianstop", {"optimize_mode": "maximize", "start_step": 5}) == {
        "name": "median",
        "args": {"optimize_mode": "maximize", "start_step": 5},
    }
    assert nni_tuner_is_scheduler("Hyperband") and nni_tuner_is_scheduler("BOHB") and nni_tuner_is_scheduler("PBTTuner")
    assert not nni_tuner_is_scheduler("TPE")
    pbt = from_nni("PBTTuner", {"population_size": 6, "factor": 0.2, "fraction": 0.2, "all_checkpoint_dir": "/x"})
    built = create_scheduler(pbt["name"], space=SPACE, **pbt["args"])
    assert built.factors == [1.2, 0.8] and built.population_size == 6 and built.quantile_fraction == 0.2
    with pytest.raises(ConfigError, match="factor"):
        from_nni("PBTTuner", {"factor": 2})


def test_orca_translation() -> None:
    assert from_orca(None) is None
    asha = from_orca("AsyncHyperBand", {"max_t": 50, "grace_period": 1, "reduction_factor": 3, "brackets": 3})
    assert asha["name"] == "asha"
    median = from_orca("median_stopping_rule", {"grace_period": 2})
    rule = create_scheduler(median["name"], **median["args"])
    assert rule.include_running and rule.min_samples_required == 3 and rule.start_step == 2
    pbt = from_orca("pbt", {"perturbation_interval": 2, "hyperparam_mutations": {"lr": [1e-3, 1e-2]}})
    assert create_scheduler(pbt["name"], space=SPACE, **pbt["args"]).names == ["lr"]
    with pytest.raises(ConfigError, match="scheduler_params: given without a scheduler"):
        from_orca(None, {"max_t": 3})


def test_auptimizer_translation() -> None:
    section = from_auptimizer({"aup_policy": "median", "aup_policy_steps": 10, "warmup": 2})
    rule = create_scheduler(section["name"], **section["args"])
    assert (rule.interval, rule.start_step, rule.include_running) == (10, 2, True)
    bandit = from_auptimizer({"aup_policy": "bandit", "aup_policy_steps": 5, "bandit_factor": 0.6})
    assert create_scheduler(bandit["name"], **bandit["args"]).bandit_factor == 0.6
    curve = from_auptimizer(
        {
            "aup_policy": "curve_fitting",
            "aup_policy_steps": 2,
            "curve_fitting_max_iters": 30,
            "curve_fitting_timeout": 9,
        }
    )
    fitted = create_scheduler(curve["name"], **curve["args"])
    assert (fitted.epoch_num, fitted.gap, fitted.start_step) == (30, 2, 3)
    with pytest.raises(ConfigError, match="did you mean 'truncation'"):
        from_auptimizer({"aup_policy": "truncaton", "aup_policy_steps": 1})
    with pytest.raises(ConfigError, match="bandit_facter: unknown field for the bandit policy; did you mean"):
        from_auptimizer({"aup_policy": "bandit", "aup_policy_steps": 1, "bandit_facter": 0.5})
    with pytest.raises(ConfigError, match="aup_policy_steps: this field is required"):
        from_auptimizer({"aup_policy": "median"})
    tuner, scheduler = from_auptimizer_proposer("hyperband", {"max_iter": 27, "eta": 3})
    assert tuner == {"name": "random"}
    assert create_scheduler(scheduler["name"], **scheduler["args"]).max_budget == 27
