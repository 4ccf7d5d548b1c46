"""How a trial's parameters are named in tables and charts (the CLI's ``trials`` and the dashboard's).

One column per parameter: a nested dict's keys under its name (``opt/beta``), a nested
choice's value under its name (``model = "rf"``) and the parameters of the branch it chose
under ``name=branch/`` (``model=rf/max_depth``), so that two branches with a parameter of
the same name (``model=rf/depth``, ``model=gbm/depth``) never share a column. Lists are
shown as their JSON text. Plain Python, no numpy: ``tunelab trials`` imports it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Joins the parts of a nested parameter's name, as the search space does.
SEPARATOR = "/"
#: Joins a nested choice's name and the branch it chose (``model=rf``).
BRANCH = "="
#: The group of trials in which a conditional parameter is absent.
MISSING = "(absent)"


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """One level of names, as the module docstring describes: ``{"model": {"_name": "rf",
    "max_depth": 3}}`` becomes ``{"model": "rf", "model=rf/max_depth": 3}``."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = prefix + str(key)
        if isinstance(value, Mapping) and "_name" in value:
            branch = value["_name"]
            flat[name] = branch
            rest = {k: v for k, v in value.items() if k != "_name"}
            flat.update(flatten_params(rest, f"{name}{BRANCH}{branch}{SEPARATOR}"))
        elif isinstance(value, Mapping) and value:
            flat.update(flatten_params(value, name + SEPARATOR))
        elif isinstance(value, (Mapping, list, tuple)):
            flat[name] = json.dumps(value, default=str, sort_keys=True)
        else:
            flat[name] = value
    return flat
