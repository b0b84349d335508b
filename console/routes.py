"""URL table of the console; who may use each route is declared on its handler (see security.py)."""

from __future__ import annotations

from aiohttp import web

from console import pages, views


def setup(app: web.Application) -> None:
    add = app.router
    add.add_get("/healthz", views.health, name="health")
    add.add_get("/static/{name}", views.static, name="static")
    add.add_get("/login", views.login_form, name="login")
    add.add_post("/login", views.login, name="login_post")
    add.add_post("/logout", views.logout, name="logout")
    add.add_get("/", views.home, name="home")
    add.add_get("/queue", pages.queue_page, name="queue")
    add.add_post("/me/status", pages.set_status, name="status")
    add.add_get("/conversations/{conv_id}", pages.conversation_page, name="conversation")
    add.add_get("/conversations/{conv_id}/done", pages.categorise_page, name="categorise")
    add.add_post("/conversations/{conv_id}/{action}", pages.conversation_action, name="action")
    add.add_get("/overview", pages.overview, name="overview")
    add.add_post("/overview/hours", pages.set_hours, name="hours")
    add.add_get("/stats", pages.stats_page, name="stats")
    add.add_get("/stats.csv", pages.stats_csv, name="stats_csv")
