"""TuneSearchCV: a drop-in for RandomizedSearchCV whose candidates come from a tunelab tuner.

python examples/sklearn_search/search_svm.py
"""

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from tunelab import hp
from tunelab.sklearn import TuneSearchCV


def main() -> None:
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    search = TuneSearchCV(
        make_pipeline(StandardScaler(), SVC()),
        {
            "svc__C": hp.loguniform(1e-1, 1e2),  # tunelab's helpers...
            "svc__gamma": loguniform(1e-5, 1e-1),  # ...scipy.stats distributions...
            "svc__kernel": ["rbf", "poly"],  # ...and lists, as RandomizedSearchCV takes them
        },
        n_trials=10,
        tuner="tpe",
        cv=3,
        n_jobs=2,
        random_state=0,
    )
    search.fit(x_train, y_train)
    print(f"tuner: {search.tuner_name_}; best parameters: {search.best_params_}")
    held_out = search.score(x_test, y_test)
    print(f"best cross-validation accuracy: {search.best_score_:.4f}; held-out accuracy: {held_out:.4f}")


if __name__ == "__main__":
    main()
