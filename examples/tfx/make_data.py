"""Write scikit-learn's digits as the TFX example's train and eval files (numpy ``.npz``, no tf.Example).

``python make_data.py DIR`` writes ``DIR/train.npz`` (1,400 rows) and ``DIR/eval.npz`` (397 rows).
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

out = Path(sys.argv[1] if len(sys.argv) > 1 else "data")
out.mkdir(parents=True, exist_ok=True)
digits = load_digits()
x, y = (digits.data / 16.0).astype("float32"), digits.target.astype("int64")
np.savez(out / "train.npz", x=x[:1400], y=y[:1400])
np.savez(out / "eval.npz", x=x[1400:], y=y[1400:])
print(f"wrote {out / 'train.npz'} and {out / 'eval.npz'}")
