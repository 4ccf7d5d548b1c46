"""Run ``module.run_fn`` as TFX's Trainer would, with the hyperparameters ``tunelab tfx-tune`` wrote.

``tunelab python train.py work/best_hyperparameters/best_hyperparameters.txt data serving``
(``tunelab python`` makes ``from tfx import v1 as tfx`` importable without TFX).
"""

import json
import sys
from pathlib import Path

import module
from tfx import v1 as tfx

best_file, data, serving = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
module.run_fn(
    tfx.components.FnArgs(
        train_files=[str(data / "train.npz")],
        eval_files=[str(data / "eval.npz")],
        hyperparameters=json.loads(best_file.read_text()),
        serving_model_dir=serving,
    )
)
