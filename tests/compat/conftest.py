"""Fixtures for the differential tests against the real upstream systems (their own virtual environments)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The interpreter of the NNI 3.0 virtual environment that `make compat-nni` creates, and the
#: stamp it writes when the install has finished.
NNI_PYTHON = ROOT / ".compat" / "nni" / "bin" / "python"
NNI_STAMP = ROOT / ".compat" / "nni" / ".installed"


@pytest.fixture(scope="session")
def nni_python() -> Path:
    """The NNI 3.0 interpreter; the test is skipped, naming the path, when the venv is missing."""
    for needed in (NNI_STAMP, NNI_PYTHON):
        if not needed.is_file():
            pytest.skip(f"NNI 3.0 venv not found: {needed} is missing (run `make compat-nni`)")
    return NNI_PYTHON
