"""`python -m console messages`: extract the console's texts and bring `locales/*/LC_MESSAGES/console.po` up to date.

Texts come from the templates (`_()`) and from Python (`N_()` where a text is defined, e.g. the page
messages and `console/labels.py`). `update` writes `locales/console.pot` and merges it into every
console catalog (a changed English text makes its translation fuzzy, which hides it until a translator
confirms it); `check` fails when a catalog lacks a text or a Swedish translation is missing or fuzzy.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from console.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog_path

CONSOLE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = CONSOLE_DIR.parent
KEYWORDS = {"_": None, "gettext": None, "N_": None}
FINDING_SOURCES = (
    *sorted((PROJECT_ROOT / "chatbot" / "content" / "guidelines").glob("*.py")),
    PROJECT_ROOT / "chatbot" / "content" / "wording_rules.py",
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def extract_texts() -> Catalog:
    """Every console text, with where it is used."""
    catalog = Catalog(project="stodchat console", version="1", locale="en")
    jinja_options = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    for path in sorted((CONSOLE_DIR / "templates").glob("*.html")):
        with path.open("rb") as source:
            found = extract(babel_extract, source, KEYWORDS, options=jinja_options)  # type: ignore[arg-type]
            for line, text, _comments, _context in found:
                _add(catalog, text, path, line)
    for path in sorted(CONSOLE_DIR.rglob("*.py")):
        with path.open("rb") as source:
            for line, text, _comments, _context in extract("python", source, {"N_": None}):
                _add(catalog, text, path, line)
    # The guideline check's findings (`T_`), which the editors' workspace shows in the console's language.
    for path in FINDING_SOURCES:
        with path.open("rb") as source:
            for line, text, _comments, _context in extract("python", source, {"T_": None}):
                _add(catalog, text, path, line)
    return catalog


def _add(catalog: Catalog, text: object, path: Path, line: int) -> None:
    if isinstance(text, str) and text:
        catalog.add(text, locations=[(str(path.relative_to(PROJECT_ROOT)), line)])


def problems(locales_dir: Path) -> list[str]:
    """What keeps the catalogs from being complete: missing texts, missing or fuzzy Swedish, bad placeholders."""
    texts = extract_texts()
    found: list[str] = []
    for language in LANGUAGES:
        path = catalog_path(locales_dir, language)
        if not path.is_file():
            found.append(f"{path}: missing (run `python -m console messages update`)")
            continue
        with path.open("rb") as source:
            catalog = read_po(source, locale=language)
        for message in texts:
            if not message.id:
                continue
            entry = catalog.get(message.id)
            if entry is None:
                found.append(f"{path}: no entry for {message.id!r} (run `python -m console messages update`)")
                continue
            translated = str(entry.string or "")
            if language == DEFAULT_LANGUAGE and (not translated.strip() or entry.fuzzy):
                found.append(f"{path}: {message.id!r} is not translated (or fuzzy)")
            elif translated and set(_PLACEHOLDER.findall(translated)) != set(
                _PLACEHOLDER.findall(str(message.id))
            ):
                found.append(f"{path}: {message.id!r} has other placeholders in its translation")
    return found


def update(locales_dir: Path) -> None:
    texts = extract_texts()
    with (locales_dir / "console.pot").open("wb") as out:
        write_po(out, texts, width=110, omit_header=False)
    for language in LANGUAGES:
        path = catalog_path(locales_dir, language)
        if path.is_file():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(project="stodchat console", version="1", locale=language)
        catalog.update(texts, no_fuzzy_matching=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=110, ignore_obsolete=True)


def register(commands: Any) -> None:
    parser = commands.add_parser("messages", help="the console's own texts and their catalogs (console.po)")
    parser.add_argument("action", choices=("update", "check"))
    parser.add_argument("--locales", type=Path, default=PROJECT_ROOT / "locales", help="catalog folder")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    if args.action == "update":
        update(args.locales)
        print(f"console catalogs updated in {args.locales}")
        return 0
    found = problems(args.locales)
    for line in found:
        print(line, file=sys.stderr)
    print(f"console catalogs: {len(found)} problem(s)")
    return 1 if found else 0
