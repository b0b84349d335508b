"""Strict-Transport-Security on every response of a process (the gateway and the console alike).

Threat: a child's or counsellor's first request over plain HTTP (a typed address, an old bookmark, a
hostile Wi-Fi that strips the redirect to HTTPS) is readable and can be rewritten. Once a browser has
seen this header over HTTPS it goes straight to HTTPS for `HSTS_MAX_AGE`. It is sent always: browsers
ignore it over plain HTTP (RFC 6797 §8.1), so a local http://127.0.0.1 run is unaffected, and no setting
can leave production without it by mistake. Set on `on_response_prepare`, so error pages, streamed
files and socket.io's answers carry it too, not only what a handler returns.
"""

from __future__ import annotations

from aiohttp import web

HEADER = "Strict-Transport-Security"


def value(max_age: int) -> str:
    # includeSubDomains: covers the names below this host only (e.g. chat.example.org's), never the
    # organisation's parent domain. Not `preload`: that is a promise to a browser list, for the operator.
    return f"max-age={max_age}; includeSubDomains"


def install(app: web.Application, max_age: int) -> None:
    header = value(max_age)

    async def add(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers[HEADER] = header

    app.on_response_prepare.append(add)
