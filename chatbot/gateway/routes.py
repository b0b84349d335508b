"""URL table of the gateway's plain HTTP side."""

from __future__ import annotations

from aiohttp import web

from chatbot.gateway import views, widget


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", views.health, name="health")
    app.router.add_get("/", views.demo_page, name="demo")
    # The children's widget (docs/widget.md): loader, chat page for the iframe, assets, strings, beacon.
    app.router.add_get(widget.CHAT_PATH, widget.chat_page, name="chat")
    app.router.add_get(widget.CATALOG_PATH, widget.catalog, name="widget_catalog")
    app.router.add_post(widget.END_PATH, widget.end_session, name="session_end")
    for path in widget.ASSET_PATHS:
        app.router.add_get(path, widget.asset)
    app.middlewares.append(views.security_headers)
