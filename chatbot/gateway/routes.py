"""URL table of the gateway's plain HTTP side."""

from __future__ import annotations

from aiohttp import web

from chatbot.gateway import views


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", views.health, name="health")
    app.router.add_get("/", views.demo_page, name="demo")
    app.middlewares.append(views.security_headers)
