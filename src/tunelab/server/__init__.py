"""The dashboard: a REST API over storage and a web page that watches and steers experiments.

Needs the ``server`` extra (FastAPI and uvicorn). ``Dashboard(storage, ServeOptions(port=8080)).start()``
serves in a background thread; :func:`create_app` gives the ASGI app itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Dashboard", "ServeOptions", "create_app", "serving"]

if TYPE_CHECKING:
    from tunelab.server._app import create_app
    from tunelab.server._serve import Dashboard, ServeOptions, serving


def __getattr__(name: str) -> Any:
    # Lazy, so that ``import tunelab.server`` names a missing extra only when it is used.
    if name == "create_app":
        from tunelab.server._app import create_app

        return create_app
    if name in ("Dashboard", "ServeOptions", "serving"):
        from tunelab.server import _serve

        return getattr(_serve, name)
    raise AttributeError(f"module 'tunelab.server' has no attribute {name!r}")
