"""The widget's own page and modules as the console's preview serves them, and its transport (read once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2

from chatbot.content.widget_catalogs import WidgetCatalogs
from chatbot.settings import PROJECT_ROOT

WIDGET_STATIC = PROJECT_ROOT / "chatbot" / "static" / "chat"
WIDGET_TEMPLATES = PROJECT_ROOT / "chatbot" / "templates"
PREVIEW_STATIC = Path(__file__).resolve().parent / "static" / "preview"
BASE = "/preview/widget"
ENTRY = "preview.js"

_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"


@dataclass(frozen=True)
class PreviewAssets:
    """The widget's files and page, and the preview's transport, read once at start-up."""

    files: dict[str, tuple[bytes, str]]
    modules: tuple[str, ...]
    page: jinja2.Template
    catalogs: WidgetCatalogs

    @classmethod
    def load(cls, locales_dir: Path, default_locale: str) -> PreviewAssets:
        files: dict[str, tuple[bytes, str]] = {}
        for folder in (WIDGET_STATIC, PREVIEW_STATIC):
            for path in sorted(folder.glob("*.js")):
                files[path.name] = (path.read_bytes(), _JS)
        files["chat.css"] = ((WIDGET_STATIC / "chat.css").read_bytes(), _CSS)
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(WIDGET_TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        modules = tuple(f"{BASE}/{name}" for name in files if name.endswith(".js"))
        catalogs = WidgetCatalogs.load(locales_dir, default_locale)
        return cls(files, modules, env.get_template("widget/chat.html"), catalogs)
