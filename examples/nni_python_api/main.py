"""NNI's Python-API quickstart (``examples/tutorials/hpo_quickstart_pytorch/main.py``), as NNI users write it.

Run it with ``tunelab python main.py`` (from this folder: the trial code directory is ``.``).
The driver below is the tutorial's, statement for statement; only ``model.py``'s data
loader differs (an offline dataset instead of downloading FashionMNIST).
"""

# The search space of model.py's three hyperparameters.
search_space = {
    "features": {"_type": "choice", "_value": [128, 256, 512, 1024]},
    "lr": {"_type": "loguniform", "_value": [0.0001, 0.1]},
    "momentum": {"_type": "uniform", "_value": [0, 1]},
}

# A local experiment: trials run on this machine.
from nni.experiment import Experiment  # noqa: E402 - where the tutorial imports it

experiment = Experiment("local")

# How one trial runs.
experiment.config.trial_command = "python model.py"
experiment.config.trial_code_directory = "."

experiment.config.search_space = search_space

# The tuner, and which way is better.
experiment.config.tuner.name = "TPE"
experiment.config.tuner.class_args["optimize_mode"] = "maximize"

# How many trials, and how many at once.
experiment.config.max_trial_number = 10
experiment.config.trial_concurrency = 2

# Run until the trials are done, serving the dashboard on http://127.0.0.1:8080.
experiment.run(8080)

# input('Press enter to quit')
experiment.stop()
