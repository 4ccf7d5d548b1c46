"""``nni.utils.merge_parameter``, which NNI examples use to overlay tuned values on argparse defaults."""

from __future__ import annotations

from typing import Any


def merge_parameter(base_params: Any, override_params: dict[str, Any]) -> Any:
    if override_params is None:
        return base_params
    is_dict = isinstance(base_params, dict)
    for key, value in override_params.items():
        if is_dict:
            if key not in base_params:
                raise ValueError(f"key '{key}' not found in base parameters")
            current = base_params[key]
        else:
            if not hasattr(base_params, key):
                raise ValueError(f"key '{key}' not found in base parameters")
            current = getattr(base_params, key)
        if current is not None and value is not None and type(current) is not type(value):
            if isinstance(current, (int, float)) and isinstance(value, (int, float)):
                value = type(current)(value)
        if is_dict:
            base_params[key] = value
        else:
            setattr(base_params, key, value)
    return base_params
