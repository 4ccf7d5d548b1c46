"""Tune a LeNet-style CNN on scikit-learn's digits with AutoEstimator.from_torch (Orca's API).

Runs offline on the CPU in well under a minute: python examples/torch_autoestimator/tune_lenet.py
"""

import tempfile

import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from tunelab import AutoEstimator, hp


class LeNet(nn.Module):
    def __init__(self, channels: int, fc1_hidden_size: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1)
        self.fc1 = nn.Linear(channels * 4 * 4, fc1_hidden_size)
        self.fc2 = nn.Linear(fc1_hidden_size, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x.view(-1, 1, 8, 8))), 2)
        return self.fc2(torch.relu(self.fc1(x.flatten(1))))


def model_creator(config):
    return LeNet(config["channels"], config["fc1_hidden_size"])


def optim_creator(model, config):
    return torch.optim.Adam(model.parameters(), lr=config["lr"])


def main() -> None:
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        (x / 16.0).astype("float32"), y, test_size=0.3, random_state=0, stratify=y
    )
    auto_est = AutoEstimator.from_torch(
        model_creator=model_creator,
        optimizer=optim_creator,
        loss=nn.CrossEntropyLoss(),
        logs_dir=tempfile.mkdtemp(prefix="tunelab_automl_logs_"),
        resources_per_trial={"cpu": 1},
        name="lenet_digits",
    )
    auto_est.fit(
        data=(x_train, y_train),
        validation_data=(x_test, y_test),
        search_space={
            "channels": hp.grid_search([4, 8]),
            "fc1_hidden_size": hp.choice([16, 32, 64]),
            "lr": hp.loguniform(1e-3, 3e-2),
            "batch_size": 64,
        },
        n_sampling=2,
        search_alg_params={"seed": 0},  # the same configurations every run
        epochs=3,
        metric="accuracy",
        scheduler="async_hyperband",
        scheduler_params={"grace_period": 1, "reduction_factor": 2},
    )
    best_model = auto_est.get_best_model()
    with torch.no_grad():
        accuracy = (best_model(torch.as_tensor(x_test)).argmax(1).numpy() == y_test).mean()
    states = [t.state.value for t in auto_est.result.trials]
    print(f"trials: {len(states)} ({states.count('EARLY_STOPPED')} stopped early)")
    print(f"best config: {auto_est.get_best_config()}")
    print(f"best trial accuracy: {auto_est.best_value:.4f}; best model on held-out data: {accuracy:.4f}")


if __name__ == "__main__":
    main()
