#!/usr/bin/env bash
# Build the virtual environment the Bayesmark benchmark and the HEBO contender run in.
#
# HEBO 0.3.6 needs numpy < 1.25 and pymoo 0.6.0 (with its compiled extensions), which
# clash with tunelab's own .venv, so everything Bayesmark runs lives here instead:
# bayesmark 0.0.8 (installed without its 2019 pins, shimmed by benchmarks/bayesmark/shims.py),
# its baselines (HyperOpt, scikit-optimize, OpenTuner, PySOT), HEBO, Optuna (TPE and
# GPSampler, with the CPU build of torch), SMAC3 and tunelab itself (editable).
#
#   bash benchmarks/bayesmark/make_hebo_venv.sh [VENV]    # default /work/venvs/hebo
set -euo pipefail
VENV=${1:-/work/venvs/hebo}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3.11}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/pip" install --disable-pip-version-check -q)
"${PIP[@]}" --upgrade pip wheel setuptools
# The pins HEBO needs first, so nothing later upgrades past them.
"${PIP[@]}" "numpy>=1.24,<1.25" "scipy>=1.10,<1.12" "pandas>=1.5,<2.1" "scikit-learn>=1.3" "torch==2.13.0" "cython<3"
# pymoo 0.6.0 has no wheel for Python 3.11: build it from source against that numpy, with its
# Cython extensions (without them HEBO's acquisition search is several times slower).
"${PIP[@]}" --no-build-isolation --no-binary pymoo "pymoo==0.6.0"
"$VENV/bin/python" -c "from pymoo.util.function_loader import is_compiled; assert is_compiled(), 'pymoo not compiled'"
"${PIP[@]}" "hebo==0.3.6"
# bayesmark without its exact 2019 pins; its real dependencies at versions that import on 3.11.
"${PIP[@]}" --no-deps "bayesmark==0.0.8"
"${PIP[@]}" "xarray>=2022.6,<2023.9" "pathvalidate>=2.5" "GitPython>=3.1" "importlib-metadata>=4"
# Bayesmark's baselines and the other peers.
"${PIP[@]}" "hyperopt>=0.2.7" "scikit-optimize>=0.9" "POAP>=0.1.26" "pySOT>=0.3.3" "opentuner>=0.8.8" \
    "optuna>=4,<6" "threadpoolctl>=3" || echo "warning: a baseline did not install; its runs are listed as missing" >&2
"${PIP[@]}" "smac>=2.1" || echo "warning: SMAC3 did not install" >&2
# tunelab itself, editable, with its core dependencies.
"${PIP[@]}" "pydantic>=2.5" "PyYAML>=6.0" "rich>=13.0" "click>=8.1" "fastapi>=0.110" "uvicorn>=0.29"
"${PIP[@]}" --no-deps -e "$ROOT"
"$VENV/bin/python" -c "import numpy, pymoo, hebo, bayesmark, tunelab; print('numpy', numpy.__version__, 'pymoo', pymoo.__version__)"
touch "$VENV/.installed"
echo done
