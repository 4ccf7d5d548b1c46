"""AutoEstimator.from_torch end to end: real small models on digits, per-epoch reports, best model."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from tunelab import AutoEstimator, hp  # noqa: E402
from tunelab.errors import ConfigError  # noqa: E402
from tunelab.storage import TrialState  # noqa: E402


class LeNet(nn.Module):
    """LeNet's shape scaled to 8x8 digits."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, channels, 3, padding=1)
        self.fc1 = nn.Linear(channels * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv(x.view(-1, 1, 8, 8))), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def _accuracy(model, x, y) -> float:
    with torch.no_grad():
        return float((model(torch.as_tensor(x)).argmax(1).numpy() == y).mean())


def test_lenet_with_data_and_optimizer_creators(digits_split, tmp_path):
    x_train, x_test, y_train, y_test = digits_split

    def loader(x, y):
        def create(config):
            dataset = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
            return torch.utils.data.DataLoader(dataset, batch_size=config["batch_size"], shuffle=True)

        return create

    est = AutoEstimator.from_torch(
        model_creator=lambda config: LeNet(config["channels"], config["hidden"]),
        optimizer=lambda model, config: torch.optim.Adam(model.parameters(), lr=config["lr"]),
        loss=nn.CrossEntropyLoss(),
        logs_dir=tmp_path,
        resources_per_trial={"cpu": 1},
        name="lenet_digits",
    )
    est.fit(
        data=loader(x_train, y_train),
        validation_data=loader(x_test, y_test),
        search_space={
            "channels": hp.grid_search([4, 8]),
            "hidden": hp.choice([16, 32]),
            "lr": hp.loguniform(3e-3, 3e-2),
            "batch_size": 64,
        },
        n_sampling=2,
        epochs=3,
        metric="accuracy",
        search_alg_params={"seed": 1},
    )
    trials = est.result.trials
    assert len(trials) == 4  # n_sampling times the grid
    assert sorted(t.params["channels"] for t in trials) == [4, 4, 8, 8]
    assert all(t.state == TrialState.SUCCEEDED for t in trials)
    assert all([r.step for r in t.intermediate] == [0, 1, 2] for t in trials)
    assert all("mean_loss" in t.intermediate[-1].metrics for t in trials)
    assert str(tmp_path) in trials[0].trial_dir

    best = est.get_best_config()
    assert set(best) == {"channels", "hidden", "lr", "batch_size"}
    model = est.get_best_model()
    assert isinstance(model, LeNet) and not model.training
    held_out = _accuracy(model, x_test, y_test)
    assert held_out >= est.best_value - 1e-9
    assert held_out > 0.85


def test_numpy_data_optimizer_name_and_min_mode(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    est = AutoEstimator.from_torch(
        model_creator=lambda config: nn.Sequential(
            nn.Linear(64, config["hidden"]), nn.ReLU(), nn.Linear(config["hidden"], 10)
        ),
        optimizer="SGD",
        loss="CrossEntropyLoss",
    )
    est.fit(
        (x_train, y_train),
        validation_data=(x_test, y_test),
        epochs=2,
        metric="mean_loss",
        mode="min",
        search_space={"hidden": hp.choice([8, 32]), "lr": hp.uniform(0.05, 0.3)},
        n_sampling=3,
        search_alg="tpe",
    )
    assert est.experiment.config.mode == "min"
    assert est.experiment.config.tuner.name == "tpe"
    values = [t.value for t in est.result.trials]
    assert est.best_value == min(values)
    model = est.get_best_model()
    with torch.no_grad():
        loss = float(nn.CrossEntropyLoss()(model(torch.as_tensor(x_test)), torch.as_tensor(y_test)))
    assert loss == pytest.approx(est.best_value, rel=1e-4)


def test_orca_scheduler_stops_bad_trials_early(digits_split):
    x_train, x_test, y_train, y_test = digits_split
    est = AutoEstimator.from_torch(
        model_creator=lambda config: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)),
        optimizer="SGD",
        loss=nn.CrossEntropyLoss(),
    )
    est.fit(
        (x_train, y_train),
        validation_data=(x_test, y_test),
        epochs=6,
        metric="accuracy",
        search_space={"lr": hp.grid_search([1e-4, 0.2, 3e-4, 0.3, 1e-4, 0.25])},
        scheduler="AsyncHyperBand",
        scheduler_params={"grace_period": 1, "reduction_factor": 2},
    )
    states = [t.state for t in est.result.trials]
    assert TrialState.EARLY_STOPPED in states, states
    stopped = [t for t in est.result.trials if t.state == TrialState.EARLY_STOPPED]
    assert all(len(t.intermediate) < 6 for t in stopped)
    assert est.get_best_config()["lr"] >= 0.2
    assert _accuracy(est.get_best_model(), x_test, y_test) >= est.best_value - 1e-9


@pytest.mark.parametrize(
    ("scheduler", "params", "trials"),
    [
        # max_t 3, eta 3: brackets of 3 configurations (+1 promotion) and of 2: 5 configurations in 6 trials.
        ("hyperband", {}, 6),
        # Ray's PBT: one member per configuration, a trial per generation of 2 epochs.
        ("pbt", {"perturbation_interval": 2}, 10),
    ],
)
def test_n_sampling_counts_configurations_not_continuations(digits_split, scheduler, params, trials):
    x_train, x_test, y_train, y_test = digits_split
    est = AutoEstimator.from_torch(
        model_creator=lambda config: nn.Linear(64, 10), optimizer="SGD", loss="CrossEntropyLoss"
    )
    est.fit(
        (x_train, y_train),
        validation_data=(x_test, y_test),
        epochs=3 if scheduler == "hyperband" else 4,
        metric="accuracy",
        search_space={"lr": hp.loguniform(0.01, 0.5)},
        n_sampling=5,
        scheduler=scheduler,
        scheduler_params=params,
    )
    assert len(est.result.trials) == trials
    fresh = [t for t in est.result.trials if t.parent is None]
    assert len(fresh) == 5
    assert all(t.parent is not None for t in est.result.trials if t not in fresh)


def test_bad_arguments_fail_before_any_trial():
    model = lambda config: nn.Linear(64, 10)  # noqa: E731
    with pytest.raises(ConfigError, match="did you mean 'Adam'"):
        AutoEstimator.from_torch(model_creator=model, optimizer="adam", loss=nn.MSELoss())
    with pytest.raises(ConfigError, match="not a torch.nn loss"):
        AutoEstimator.from_torch(model_creator=model, optimizer="Adam", loss="CrossEntropy")
    with pytest.raises(ConfigError, match="cpu"):
        AutoEstimator.from_torch(
            model_creator=model, optimizer="Adam", loss=nn.MSELoss(), resources_per_trial={"cpu": 0}
        )
    est = AutoEstimator.from_torch(model_creator=model, optimizer="Adam", loss=nn.MSELoss())
    data = (np.zeros((4, 64), "float32"), np.zeros((4, 10), "float32"))
    with pytest.raises(ConfigError, match="did you mean 'accuracy'"):
        est.fit(data, search_space={"lr": 0.1}, metric="accuracyy")
    with pytest.raises(ConfigError, match="contradicts"):
        est.fit(data, search_space={"lr": 0.1}, metric="mse", metric_mode="min", mode="max")
    with pytest.raises(ConfigError, match="metric_mode"):
        est.fit(data, search_space={"lr": 0.1}, metric=lambda y, p: 0.0)
    with pytest.raises(ConfigError, match="search_space"):
        est.fit(data)
