"""URL table of the console; who may use each route is declared on its handler (see security.py)."""

from __future__ import annotations

from aiohttp import web

from console import views


def setup(app: web.Application) -> None:
    add = app.router
    add.add_get("/healthz", views.health, name="health")
    add.add_get("/static/{name}", views.static, name="static")
    add.add_get("/login", views.login_form, name="login")
    add.add_post("/login", views.login, name="login_post")
    add.add_post("/logout", views.logout, name="logout")
    add.add_get("/", views.home, name="home")
    add.add_get("/overview", views.overview, name="overview")
