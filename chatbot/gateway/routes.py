"""URL table of the gateway's plain HTTP side."""

from __future__ import annotations

from aiohttp import web

from chatbot.gateway import upload_views, views, widget


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", views.health, name="health")
    app.router.add_get("/", views.demo_page, name="demo")
    # The children's widget (docs/widget.md): loader, chat page for the iframe, assets, strings, beacon.
    app.router.add_get(widget.CHAT_PATH, widget.chat_page, name="chat")
    app.router.add_get(widget.CATALOG_PATH, widget.catalog, name="widget_catalog")
    app.router.add_post(widget.END_PATH, widget.end_session, name="session_end")
    for path in widget.ASSET_PATHS:
        app.router.add_get(path, widget.asset)
    # The encrypted upload (docs/upload-crypto.md): the upload token rides in the Authorization header.
    app.router.add_post("/upload/v1/start", upload_views.start, name="upload_start")
    app.router.add_get("/upload/v1/files", upload_views.progress, name="upload_progress")
    app.router.add_put("/upload/v1/files/{index}", upload_views.chunk, name="upload_chunk")
    app.router.add_post("/upload/v1/finish", upload_views.finish, name="upload_finish")
    app.router.add_delete("/upload/v1", upload_views.cancel, name="upload_cancel")
    app.router.add_post("/upload/v1/case-status", upload_views.case_status, name="case_status")
    app.router.add_get("/upload/v1/keys", upload_views.config, name="upload_config")
    for path in upload_views.ASSETS:
        app.router.add_get(path, upload_views.asset)
    app.middlewares.append(views.security_headers)
