"""Tune an XGBoost and a LightGBM booster: every round is reported, ASHA stops the poor ones.

python examples/xgboost_lightgbm/tune_boosters.py
"""

import lightgbm as lgb
import xgboost as xgb
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import tunelab
from tunelab import hp
from tunelab.integrations.lightgbm import tunelab_callback
from tunelab.integrations.xgboost import TunelabCallback

ROUNDS = 60
X, y = load_breast_cancer(return_X_y=True)
X_TRAIN, X_VALID, Y_TRAIN, Y_VALID = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def train_xgboost(params):
    # nthread=1: trials run in forked processes, two at a time on two cores.
    dtrain = xgb.DMatrix(X_TRAIN, Y_TRAIN, nthread=1)
    dvalid = xgb.DMatrix(X_VALID, Y_VALID, nthread=1)
    booster = xgb.train(
        {**params, "objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1},
        dtrain,
        num_boost_round=ROUNDS,
        evals=[(dvalid, "validation")],
        callbacks=[TunelabCallback("validation-logloss")],
        verbose_eval=False,
    )
    return float(booster.eval(dvalid).split(":")[-1])


def train_lightgbm(params):
    booster = lgb.train(
        {**params, "objective": "binary", "verbose": -1, "num_threads": 1},
        lgb.Dataset(X_TRAIN, Y_TRAIN),
        num_boost_round=ROUNDS,
        valid_sets=[lgb.Dataset(X_VALID, Y_VALID)],
        valid_names=["validation"],
        callbacks=[tunelab_callback("validation-binary_logloss")],
    )
    return booster.best_score["validation"]["binary_logloss"]


def main() -> None:
    asha = {"name": "asha", "args": {"max_t": ROUNDS, "grace_period": 5, "reduction_factor": 3}}
    runs = {
        "xgboost": (train_xgboost, {"eta": hp.loguniform(0.01, 0.5), "max_depth": hp.randint(2, 8)}),
        "lightgbm": (train_lightgbm, {"learning_rate": hp.loguniform(0.01, 0.5), "num_leaves": hp.randint(4, 64)}),
    }
    for name, (objective, space) in runs.items():
        result = tunelab.optimize(
            objective, space, max_trials=8, mode="min", concurrency=2, seed=0, scheduler=asha, name=f"{name}-cancer"
        )
        stopped = sum(t.state.value == "EARLY_STOPPED" for t in result.trials)
        best = f"best validation logloss {result.best_value:.4f} with {result.best_params}"
        print(f"{name}: {best}; {stopped} stopped early")


if __name__ == "__main__":
    main()
