"""tunelab.testing: what it exports, and what importing tunelab (or it) pulls in."""

from __future__ import annotations

import json
import subprocess
import sys

import tunelab.testing
from tunelab.testing import _runners


def test_every_public_name_of_its_modules_is_exported() -> None:
    assert set(_runners.__all__) <= set(tunelab.testing.__all__)
    assert all(hasattr(tunelab.testing, name) for name in tunelab.testing.__all__)


def test_only_the_suites_import_pytest_and_none_imports_hypothesis() -> None:
    code = (
        "import json, sys\n"
        "import tunelab\n"
        "seen = {'tunelab': 'pytest' in sys.modules}\n"
        "import tunelab.testing\n"
        "seen['tunelab.testing'] = 'pytest' in sys.modules\n"
        "import tunelab.testing.storages, tunelab.testing.schedulers, tunelab.testing.tuners\n"
        "seen['suites'] = 'pytest' in sys.modules\n"
        "seen['hypothesis'] = 'hypothesis' in sys.modules\n"
        "print(json.dumps(seen))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"tunelab": False, "tunelab.testing": False, "suites": True, "hypothesis": False}
