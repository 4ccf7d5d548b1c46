"""TuneSearchCV: scikit-learn's conventions and estimator checks, and tunelab's tuners behind them."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy import stats
from sklearn.base import is_classifier
from sklearn.datasets import load_diabetes, load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier
from sklearn.model_selection import RandomizedSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from tunelab import hp
from tunelab.errors import SearchSpaceError, TunerError
from tunelab.sklearn import TuneSearchCV

# The instances scikit-learn checks RandomizedSearchCV with, RidgeClassifier standing in
# for the (much slower) LogisticRegression.
_CHECKED = [
    TuneSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, n_trials=2, cv=2, error_score="raise", random_state=0),
    TuneSearchCV(RidgeClassifier(), {"alpha": [0.1, 1.0]}, n_trials=2, cv=2, error_score="raise", random_state=0),
    TuneSearchCV(
        Pipeline([("pca", PCA()), ("ridge", Ridge())]),
        {"ridge__alpha": hp.loguniform(0.1, 1.0)},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    ),
]


def _expected_failures(estimator):
    # scikit-learn expects this check to fail for its own RandomizedSearchCV and GridSearchCV
    # (sklearn/utils/_test_common/instance_generator.py): a regressor's DataConversionWarning
    # for a column-vector y is raised inside the cross-validation fits, not by the search.
    if is_classifier(estimator):
        return {}
    return {"check_supervised_y_2d": "DataConversionWarning not caught (as for RandomizedSearchCV)"}


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@parametrize_with_checks(_CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_fit_predict_score_and_attributes(digits):
    X_train, X_test, y_train, y_test = digits
    search = TuneSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=200)),
        {"logisticregression__C": hp.loguniform(1e-3, 1e2)},
        n_trials=6,
        cv=3,
        tuner="tpe",
        random_state=0,
    )
    assert search.fit(X_train, y_train) is search
    assert len(search.cv_results_["params"]) == 6
    best = int(np.argmax(search.cv_results_["mean_test_score"]))
    assert search.best_index_ == best
    assert search.best_score_ == pytest.approx(search.cv_results_["mean_test_score"][best])
    assert search.best_params_ == search.cv_results_["params"][best]
    assert search.best_estimator_.get_params()["logisticregression__C"] == search.best_params_["logisticregression__C"]
    assert search.score(X_test, y_test) > 0.9
    assert search.predict(X_test).shape == y_test.shape
    assert search.predict_proba(X_test).shape == (len(y_test), 10)
    assert search.tuner_name_ == "tpe"


def test_same_seed_same_candidates_and_n_jobs_gives_same_results(digits):
    X_train, _, y_train, _ = digits
    space = {"C": hp.loguniform(1e-2, 1e2), "gamma": stats.loguniform(1e-4, 1e-1), "kernel": ["rbf", "poly"]}
    runs = [
        TuneSearchCV(SVC(), space, n_trials=5, cv=2, tuner="random", random_state=3, n_jobs=n_jobs).fit(
            X_train[:400], y_train[:400]
        )
        for n_jobs in (1, 2)
    ]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    np.testing.assert_allclose(runs[0].cv_results_["mean_test_score"], runs[1].cv_results_["mean_test_score"])


def test_adaptive_tuner_finds_a_good_alpha_in_a_nested_pipeline():
    X, y = load_diabetes(return_X_y=True)
    search = TuneSearchCV(
        Pipeline([("scale", StandardScaler()), ("ridge", Ridge())]),
        {"ridge__alpha": hp.loguniform(1e-3, 1e4)},
        n_trials=12,
        cv=3,
        tuner="gp",
        batch_size=2,
        random_state=0,
    ).fit(X, y)
    baseline = RandomizedSearchCV(
        Pipeline([("scale", StandardScaler()), ("ridge", Ridge())]),
        {"ridge__alpha": [1e4]},
        n_iter=1,
        cv=3,
    ).fit(X, y)
    assert search.best_score_ > baseline.best_score_
    assert search.best_params_["ridge__alpha"] < 1e3


def test_multimetric_refit_on_named_metric(digits):
    X_train, _, y_train, _ = digits
    search = TuneSearchCV(
        RidgeClassifier(),
        {"alpha": [0.1, 10.0, 1000.0]},
        n_trials=3,
        cv=2,
        scoring={"acc": "accuracy", "f1": "f1_macro"},
        refit="f1",
        random_state=0,
    ).fit(X_train[:300], y_train[:300])
    assert set(search.cv_results_) >= {"mean_test_acc", "mean_test_f1", "rank_test_f1"}
    assert search.best_score_ == pytest.approx(max(search.cv_results_["mean_test_f1"]))


def test_refit_false_has_no_best_estimator(digits):
    X_train, X_test, y_train, _ = digits
    search = TuneSearchCV(RidgeClassifier(), {"alpha": [0.1, 1.0]}, n_trials=2, cv=2, refit=False)
    search.fit(X_train[:200], y_train[:200])
    assert not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError):
        search.predict(X_test)


def test_exhausted_finite_space_stops_early(digits):
    X_train, _, y_train, _ = digits
    search = TuneSearchCV(RidgeClassifier(), {"alpha": [0.1, 1.0, 10.0]}, n_trials=10, cv=2, tuner="tpe")
    search.fit(X_train[:200], y_train[:200])
    assert sorted(p["alpha"] for p in search.cv_results_["params"]) == [0.1, 1.0, 10.0]


def test_bad_arguments_are_reported_at_fit(digits):
    X_train, _, y_train, _ = digits
    with pytest.raises(TunerError, match="unknown tuner"):
        TuneSearchCV(Ridge(), {"alpha": [1.0]}, tuner="nope").fit(X_train, y_train)
    with pytest.raises(TunerError, match="unknown argument"):
        TuneSearchCV(Ridge(), {"alpha": [1.0]}, tuner="tpe", tuner_args={"n_startup": 3}).fit(X_train, y_train)
    with pytest.raises(SearchSpaceError, match="alpha"):
        TuneSearchCV(Ridge(), {"alpha": stats.norm(0, 1)}).fit(X_train, y_train)
    with pytest.raises(SearchSpaceError, match="empty"):
        TuneSearchCV(Ridge(), {"alpha": []}).fit(X_train, y_train)
    with pytest.raises(ValueError, match="n_trials"):
        TuneSearchCV(Ridge(), {"alpha": [1.0]}, n_trials=0).fit(X_train, y_train)


def test_works_as_a_step_of_a_pipeline(digits):
    X_train, X_test, y_train, y_test = digits
    search = TuneSearchCV(RidgeClassifier(), {"alpha": hp.loguniform(1e-2, 1e3)}, n_trials=4)
    pipe = make_pipeline(StandardScaler(), search)
    pipe.fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.85
    assert pipe[-1].best_params_["alpha"] > 0
