"""Serving the dashboard: choosing the address, the token, and running uvicorn in the
foreground (``tunelab view``) or in a background thread beside an engine (``run --port``)."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import sys
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from tunelab.errors import ConfigError, escape
from tunelab.server._security import LOOPBACK_NAMES, is_loopback, new_token
from tunelab.storage import Storage

logger = logging.getLogger(__name__)

_PORT_TRIES = 20


@dataclass(frozen=True)
class ServeOptions:
    """How to serve: ``host`` other than loopback needs a token (one is made when none is given)."""

    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    read_only: bool = False
    cors_origins: tuple[str, ...] = ()
    experiment_id: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, got {self.port}")
        if self.token is not None and len(self.token) < 8:
            raise ConfigError("--token must be at least 8 characters long")


@dataclass
class Dashboard:
    """A dashboard server over ``storage``. ``start()`` serves in a daemon thread,
    ``serve_forever()`` in the calling thread; ``notes`` says what a user must know
    (the address, a generated token, a port that was taken)."""

    storage: Storage
    options: ServeOptions = field(default_factory=ServeOptions)
    url: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        import uvicorn

        from tunelab.server._app import create_app

        options = self.options
        token = options.token
        self._socket, port = _bind(options.host, options.port)
        # Loopback is decided on what the name resolves to and on the address actually bound,
        # never on the spelling of --host (127.attacker.example is no loopback).
        bound = str(self._socket.getsockname()[0])
        if token is None and not (is_loopback(options.host) and is_loopback(bound)):
            token = new_token()
            self.notes.append(
                f"serving on {escape(options.host)}: generated an access token "
                "(choose one with TUNELAB_TOKEN or --token-file)"
            )
        self.token = token
        if options.port and port != options.port:
            self.notes.append(f"port {options.port} is taken; serving on port {port} instead")
        self.port = port
        trusted: Collection[str] | None = None
        if token is None:
            trusted = {*LOOPBACK_NAMES, options.host}
        app = create_app(
            self.storage,
            read_only=options.read_only,
            token=token,
            trusted_hosts=trusted,
            cors_origins=options.cors_origins,
            experiment_id=options.experiment_id,
        )
        self._cache = app.state.snapshots
        shown_host = options.host if ":" not in options.host else f"[{options.host}]"
        if options.host in ("0.0.0.0", "::"):
            shown_host = socket.gethostname()
        fragment = f"#/e/{options.experiment_id}" if options.experiment_id else ""
        self.url = f"http://{shown_host}:{port}/" + (f"?token={token}" if token else "") + fragment
        self.notes.insert(0, f"dashboard: {self.url}" + (" (read-only)" if options.read_only else ""))
        # log_config=None: the dashboard runs inside the user's process and must not reconfigure
        # (and close) the logging handlers already there, such as absl's, which closes sys.stderr.
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self) -> Dashboard:
        """Serve in a daemon thread; returns once the server accepts connections."""
        self._warm()
        self._thread = threading.Thread(target=self._serve, name="tunelab-dashboard", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10.0
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until Ctrl-C."""
        self._warm()
        self._serve()

    def _warm(self) -> None:
        """Read the served experiment's trials in the background, before anyone asks."""
        eid = self.options.experiment_id
        if eid is not None:
            threading.Thread(target=self._read, args=(eid,), name="tunelab-dashboard-warm", daemon=True).start()

    def _read(self, experiment_id: str) -> None:
        try:
            self._cache.get(experiment_id)
        except Exception:  # the page will show the error when it asks
            logger.debug("could not read experiment %s ahead of time", experiment_id, exc_info=True)

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._socket.close()

    def __enter__(self) -> Dashboard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _bind(host: str, port: int) -> tuple[socket.socket, int]:
    """A listening socket on ``port``, or the next free one above it, or any free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    candidates = [port] if port == 0 else [*range(port, min(port + _PORT_TRIES, 65536)), 0]
    last: OSError | None = None
    for candidate in candidates:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise ConfigError(f"--host {host!r}: cannot listen there ({exc.strerror})") from None
            last = exc
            continue
        sock.set_inheritable(False)
        return sock, sock.getsockname()[1]
    raise ConfigError(f"--port {port}: no free port found ({last})")


@contextmanager
def serving(
    experiment_id: str, storage: Storage, port: int | None, options: ServeOptions | None
) -> Iterator[Dashboard | None]:
    """Serve the dashboard of one experiment while the body runs (``Experiment.run(port=...)``).

    ``storage`` should be a connection of its own, so that the server's reads do not wait
    on the engine's lock. The address and any note go to stderr: the user asked for them.
    """
    if port is None and options is None:
        yield None
        return
    options = options or ServeOptions()
    if port is not None:
        options = replace(options, port=port)
    if options.experiment_id is None:
        options = replace(options, experiment_id=experiment_id)
    dashboard = Dashboard(storage, options).start()
    for note in dashboard.notes:
        sys.stderr.write(note + "\n")
    try:
        yield dashboard
    finally:
        dashboard.stop()
        storage.close()
