"""An Orca AutoEstimator script as BigDL's examples write one, using only ``bigdl.orca`` imports.

It follows BigDL's ``python/orca/example/automl/autoestimator/autoestimator_pytorch.py``: the
same imports, command-line flags, ``init_orca_context`` branches, AutoEstimator calls and
final evaluation. Only the data differ: a small, seeded, generated binary classification
set instead of a larger unseeded one. Run it with tunelab's Orca compatibility modules
importable:

    tunelab python examples/orca_upstream_style/autoestimator_pytorch.py --trials 2
    # or: PYTHONPATH=src/tunelab/trial/_shims python examples/orca_upstream_style/autoestimator_pytorch.py

``--cluster_mode local`` (the default) asks Orca for Ray on a local Spark cluster
(``init_ray_on_spark=True``), so tunelab starts a Ray cluster on 127.0.0.1 and runs the
trials there; any other value that is not ``yarn`` or ``k8s`` skips ``init_orca_context``
and the trials run as local processes.
"""

import argparse

import numpy as np
import torch
import torch.nn as nn
from bigdl.orca import init_orca_context, stop_orca_context
from bigdl.orca.automl.auto_estimator import AutoEstimator
from bigdl.orca.automl.pytorch_utils import LR_NAME

INPUT_SIZE = 50


class Net(nn.Module):
    """Two hidden layers with dropout and a PReLU, a sigmoid output: one probability per sample."""

    def __init__(self, dropout, fc1_size, fc2_size):
        super().__init__()
        self.fc1 = nn.Linear(INPUT_SIZE, fc1_size)
        self.relu1 = nn.ReLU()
        self.dout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(fc1_size, fc2_size)
        self.prelu = nn.PReLU(1)
        self.out = nn.Linear(fc2_size, 1)
        self.out_act = nn.Sigmoid()

    def forward(self, input_):
        hidden = self.dout(self.relu1(self.fc1(input_)))
        return self.out_act(self.out(self.prelu(self.fc2(hidden))))


def model_creator(config):
    return Net(dropout=config["dropout"], fc1_size=config["fc1_size"], fc2_size=config["fc2_size"])


def get_optimizer(model, config):
    return torch.optim.SGD(model.parameters(), lr=config["lr"])


def get_train_val_data():
    """The changed part: two shifted Gaussian blobs, seeded, small (upstream draws 1000 and 400 unseeded)."""
    rng = np.random.default_rng(0)

    def blobs(size):
        x = np.concatenate([rng.normal(size=(size // 2, INPUT_SIZE)), rng.normal(size=(size // 2, INPUT_SIZE)) + 1.5])
        y = np.concatenate([np.zeros((size // 2, 1)), np.ones((size // 2, 1))])
        return x, y

    return blobs(200), blobs(80)


def create_linear_search_space():
    from bigdl.orca.automl import hp

    return {
        "dropout": hp.uniform(0.2, 0.3),
        "fc1_size": hp.choice([50, 64]),
        "fc2_size": hp.choice([100, 128]),
        LR_NAME: hp.choice([0.001, 0.003, 0.01]),
        "batch_size": hp.choice([32, 64]),
    }


def train_example(args):
    auto_est = AutoEstimator.from_torch(
        model_creator=model_creator,
        optimizer="Adam",
        loss="BCELoss",
        logs_dir="/tmp/zoo_automl_logs",
        resources_per_trial={"cpu": args.cpus_per_trial},
        name="test_fit",
    )
    train_data, val_data = get_train_val_data()
    auto_est.fit(
        data=train_data,
        epochs=args.epochs,
        validation_data=val_data,
        metric="accuracy",
        n_sampling=args.trials,
        search_space=create_linear_search_space(),
    )
    best_model = auto_est.get_best_model()
    y_hat = best_model(torch.from_numpy(val_data[0]).float()).detach().numpy()
    from bigdl.orca.automl.metrics import Evaluator

    accuracy = Evaluator.evaluate(metric="accuracy", y_true=val_data[1], y_pred=y_hat)
    print("Evaluate: accuracy is", accuracy)
    print("best config:", auto_est.get_best_config())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="Autoestimator_pytorch", description="Automatically fit the model and return the best model."
    )
    parser.add_argument("--cluster_mode", type=str, default="local", help="The mode for the Spark cluster.")
    parser.add_argument("--num_nodes", type=int, default=1, help="The number of nodes in the cluster.")
    parser.add_argument("--cores", type=int, default=4, help="The number of CPU cores on each node.")
    parser.add_argument("--memory", type=str, default="10g", help="The memory on each node.")
    parser.add_argument("--workers_per_node", type=int, default=2, help="The number of workers on each node.")
    parser.add_argument("--k8s_master", type=str, default="", help="The k8s master (k8s://https://host:port).")
    parser.add_argument("--container_image", type=str, default="", help="The runtime k8s image.")
    parser.add_argument("--k8s_driver_host", type=str, default="", help="The k8s driver host.")
    parser.add_argument("--k8s_driver_port", type=str, default="", help="The k8s driver port.")
    parser.add_argument("--cpus_per_trial", type=int, default=2, help="The number of cores for each trial.")
    parser.add_argument("--epochs", type=int, default=1, help="The number of epochs in each trial.")
    parser.add_argument("--trials", type=int, default=4, help="The number of searching trials.")
    args = parser.parse_args()

    if args.cluster_mode == "local":
        init_orca_context(
            cluster_mode="local", cores=args.cores, num_nodes=args.num_nodes, memory=args.memory, init_ray_on_spark=True
        )
    elif args.cluster_mode == "yarn":
        init_orca_context(cluster_mode="yarn-client", cores=args.cores, memory=args.memory, init_ray_on_spark=True)
    elif args.cluster_mode == "k8s":
        if not args.k8s_master or not args.container_image or not args.k8s_driver_host or not args.k8s_driver_port:
            parser.print_help()
            parser.error("k8s_master, container_image, k8s_driver_host/port are required not to be empty")
        init_orca_context(
            cluster_mode="k8s",
            master=args.k8s_master,
            container_image=args.container_image,
            cores=args.cores,
            init_ray_on_spark=True,
            conf={"spark.driver.host": args.k8s_driver_host, "spark.driver.port": args.k8s_driver_port},
        )

    train_example(args)
    stop_orca_context()
