"""Who may talk to the dashboard: the token, the Host header, and where writes come from.

* With a token, every request (pages, static files, the API, the OpenAPI document) must
  carry it: ``Authorization: Bearer TOKEN``, the ``tunelab_token`` cookie, or ``?token=``
  (a page opened that way sets the cookie and redirects to the same address without it;
  an API address with the cookie and ``?token=`` redirects to itself without the token).
* ``trusted_hosts`` refuses requests whose ``Host`` header names another host, which
  stops DNS rebinding against a dashboard on loopback without a token.
* A write (any method but GET/HEAD/OPTIONS) whose ``Origin`` is not the dashboard's own
  is refused, so another web site open in the same browser cannot stop an experiment.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Callable, Collection
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "tunelab_token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _resolve(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def is_loopback(host: str, resolve: Callable[[str], list[str]] = _resolve) -> bool:
    """Whether serving on ``host`` is reachable from this machine only: decided on the
    addresses it resolves to (every one must be loopback), never on how the name is spelled,
    so ``127.attacker.example`` is not loopback. A name that does not resolve is not either."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    try:
        addresses = resolve(name)
    except (OSError, UnicodeError):
        return False
    try:
        return bool(addresses) and all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses)
    except ValueError:
        return False


class GuardMiddleware:
    def __init__(self, app: ASGIApp, *, token: str | None = None, trusted_hosts: Collection[str] | None = None) -> None:
        self.app = app
        self.token = token
        self.trusted_hosts = None if trusted_hosts is None else {h.lower() for h in trusted_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._check(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, request: Request) -> Response | None:
        host = (request.headers.get("host") or "").lower()
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if self.trusted_hosts is not None and hostname not in self.trusted_hosts:
            return PlainTextResponse(f"host {hostname!r} is not served here", status_code=400)
        if self.token is not None:
            if not _valid(_token_of(request), self.token):
                return _unauthorized(request)
            if "token" in request.query_params and request.method in ("GET", "HEAD"):
                # A page opened with ?token= gets the cookie and the same address without the token
                # (out of the address bar, the history and the logs). An API call that has the
                # cookie already is sent to its address without the token too; one without the
                # cookie (a script) is answered, as it cannot follow a cookie.
                if not request.url.path.startswith("/api/"):
                    return _set_cookie_and_redirect(request, self.token)
                if _valid(request.cookies.get(COOKIE), self.token):
                    return _redirect_without_token(request)
        if request.method not in _SAFE_METHODS:
            origin = request.headers.get("origin")
            if origin is not None and urlsplit(origin).netloc.lower() != host:
                return JSONResponse({"detail": "cross-origin writes are refused"}, status_code=403)
        return None


def _valid(given: str | None, token: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), token.encode())


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("token") or request.cookies.get(COOKIE)


def _unauthorized(request: Request) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "a valid token is required"}, status_code=401)
    return PlainTextResponse(
        "This tunelab dashboard needs its token: open the address with ?token=... that tunelab printed.",
        status_code=401,
    )


def _redirect_without_token(request: Request) -> Response:
    query = urlencode([(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k != "token"])
    return RedirectResponse(request.url.path + (f"?{query}" if query else ""), status_code=303)


def _set_cookie_and_redirect(request: Request, token: str) -> Response:
    response = _redirect_without_token(request)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
    return response
