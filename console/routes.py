"""URL table of the console; who may use each route is declared on its handler (see security.py)."""

from __future__ import annotations

from aiohttp import web

from console import (
    case_pages,
    content_pages,
    overrule_pages,
    pages,
    preview_pages,
    setup_pages,
    translation_pages,
    views,
)


def setup(app: web.Application) -> None:
    add = app.router
    add.add_get("/healthz", views.health, name="health")
    add.add_get("/static/{name}", views.static, name="static")
    add.add_get("/texts/{language}.js", views.texts_script, name="texts")
    add.add_get("/login", views.login_form, name="login")
    add.add_post("/login", views.login, name="login_post")
    add.add_post("/logout", views.logout, name="logout")
    add.add_get("/setup", setup_pages.setup, name="setup")
    add.add_get("/setup/password", setup_pages.password_form, name="setup_password")
    add.add_post("/setup/password", setup_pages.set_password, name="setup_password_post")
    add.add_get("/setup/authenticator", setup_pages.authenticator_form, name="setup_authenticator")
    add.add_post("/setup/authenticator", setup_pages.confirm_authenticator, name="setup_authenticator_post")
    add.add_get("/", views.home, name="home")
    add.add_post("/me/language", views.set_language, name="language")
    add.add_get("/queue", pages.queue_page, name="queue")
    add.add_post("/me/status", pages.set_status, name="status")
    add.add_get("/conversations/{conv_id}", pages.conversation_page, name="conversation")
    add.add_get("/conversations/{conv_id}/done", pages.categorise_page, name="categorise")
    add.add_post("/conversations/{conv_id}/{action}", pages.conversation_action, name="action")
    add.add_get("/overview", pages.overview, name="overview")
    add.add_post("/overview/hours", pages.set_hours, name="hours")
    add.add_post("/overview/signin-blocks", pages.lift_block, name="lift_block")
    add.add_get("/stats", pages.stats_page, name="stats")
    add.add_get("/stats.csv", pages.stats_csv, name="stats_csv")
    add.add_get("/cases", case_pages.case_list, name="cases")
    add.add_post("/cases/export", case_pages.export_hashes, name="case_export")
    add.add_get("/cases/{case_id}", case_pages.case_page, name="case")
    add.add_post("/cases/{case_id}/reauth", case_pages.reauth, name="case_reauth")
    add.add_post("/cases/{case_id}/actions", case_pages.case_action, name="case_action")
    add.add_post("/cases/{case_id}/files/{file_id}", case_pages.ciphertext, name="case_file")
    add.add_post("/cases/{case_id}/files/{file_id}/revealed", case_pages.revealed, name="case_reveal")
    add.add_get("/content", content_pages.browse, name="content")
    add.add_post("/content/drafts", content_pages.new_draft, name="content_new_draft")
    add.add_get("/content/drafts/{draft_id}", content_pages.draft_page, name="content_draft")
    add.add_post("/content/drafts/{draft_id}/check", content_pages.check_edit, name="content_check")
    overrule_pages.add_routes(add)  # before the drafts' generic {action} route, which would take it
    add.add_post("/content/drafts/{draft_id}/{action}", content_pages.draft_action, name="content_action")
    add.add_get("/content/history", content_pages.history, name="content_history")
    add.add_post("/content/history/{number}/rollback", content_pages.rollback, name="content_rollback")
    add.add_get("/upload/{name}", case_pages.viewer_asset, name="viewer_asset")
    translation_pages.add_routes(add)
    preview_pages.add_routes(add)
