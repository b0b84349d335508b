"""`python -m chatbot content ...`: check the answers against the guidelines, show the graph, translate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from chatbot.content.catalog_tools import merge, template, write_catalog
from chatbot.content.catalogs import DOMAIN, SOURCE_LOCALE, CatalogError, normalize, read_catalog
from chatbot.content.gate_eval import HeldoutError, evaluate, format_scores, load_heldout
from chatbot.content.guidelines.contract import START
from chatbot.content.guidelines.graph import button_targets, taps_from
from chatbot.content.guidelines.report import check_library, format_report
from chatbot.content.library import Answer, ContentError, ContentLibrary
from chatbot.content.widget_catalogs import CatalogError as WidgetCatalogError
from chatbot.content.widget_catalogs import WidgetCatalogs, language_statuses
from chatbot.settings import PROJECT_ROOT


def add_content_commands(commands: Any) -> None:
    """Register `content` and its subcommands on the main parser's subparsers."""
    content = commands.add_parser(
        "content",
        help="check the child-facing answers, show their graph, extract and update translations",
        description="Tools for content editors and translators (docs/content.md, docs/translation.md).",
    )
    sub = content.add_subparsers(dest="content_command", required=True, metavar="ACTION")

    def dirs(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--content-dir", type=Path, default=PROJECT_ROOT / "content", help="default: content/"
        )
        parser.add_argument(
            "--locales-dir", type=Path, default=PROJECT_ROOT / "locales", help="default: locales/"
        )

    check = sub.add_parser(
        "check", help="check every answer against content/guidelines.md; fails on violations"
    )
    dirs(check)
    check.add_argument(
        "--require-complete",
        metavar="LOCALE",
        action="append",
        default=[],
        help="treat a missing or fuzzy translation in LOCALE as a violation (repeatable)",
    )
    check.add_argument(
        "--offer",
        metavar="LOCALES",
        default=None,
        help="languages the widget offers, comma-separated (default: OFFERED_LOCALES or sv,en,ar); "
        "the check fails when one of them is not safe-complete (docs/languages.md)",
    )
    check.add_argument("--quiet", action="store_true", help="list only answers with findings")
    check.set_defaults(handler=_check)

    gate = sub.add_parser(
        "gate-eval",
        help="measure the blame, promise and personal-data checks on held-out sentences (docs/content.md)",
    )
    gate.add_argument(
        "--heldout",
        type=Path,
        default=PROJECT_ROOT / "content" / "guidelines" / "heldout.yml",
        help="default: content/guidelines/heldout.yml",
    )
    gate.add_argument("--verbose", action="store_true", help="also list every miss and false alarm")
    gate.set_defaults(handler=_gate_eval)

    tune = sub.add_parser(
        "gate-tune",
        help="leave each spent held-out set out in turn: the classifier's recall and false warnings per "
        "threshold (docs/content.md)",
    )
    tune.set_defaults(handler=_gate_tune)

    graph = sub.add_parser("graph", help="print the answer graph: buttons and taps from the welcome")
    dirs(graph)
    graph.add_argument("--dot", action="store_true", help="print Graphviz (dot -Tsvg) instead of text")
    graph.set_defaults(handler=_graph)

    extract = sub.add_parser("extract", help=f"write the template locales/{DOMAIN}.pot from the answers")
    dirs(extract)
    extract.set_defaults(handler=_extract)

    update = sub.add_parser(
        "update",
        help="extract, then update every locales/<lang>/LC_MESSAGES/content.po; changed Swedish makes entries fuzzy",
    )
    dirs(update)
    update.add_argument(
        "--init", metavar="LOCALE", action="append", default=[], help="start a catalog for LOCALE"
    )
    update.set_defaults(handler=_update)

    from chatbot import content_versions_cli

    content_versions_cli.register(sub, dirs)


def _load(args: argparse.Namespace) -> ContentLibrary:
    return ContentLibrary.load(args.content_dir, args.locales_dir)


def _check(args: argparse.Namespace) -> int:
    try:
        library = _load(args)
    except (ContentError, CatalogError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    report = check_library(library, require_complete=[normalize(x) for x in args.require_complete])
    try:
        widget = WidgetCatalogs.load(args.locales_dir, SOURCE_LOCALE)
    except WidgetCatalogError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    offered_text = args.offer if args.offer is not None else os.environ.get("OFFERED_LOCALES", "sv,en,ar")
    offered = [normalize(x.strip()) for x in offered_text.split(",") if x.strip()]
    statuses = language_statuses(library, widget)
    print("languages (safe-complete: widget strings, safety answers and crisis check; docs/languages.md):")
    for status in statuses:
        mark = "offered" if status.locale in offered else "not offered"
        print(f"  {status.summary()} [{mark}]")
    known = {s.locale for s in statuses}
    unsafe = [s.locale for s in statuses if s.locale in offered and not s.safe_complete]
    unsafe += [code for code in offered if code not in known]
    print(format_report(report, verbose=not args.quiet))
    if unsafe:
        print(f"FAILED: offered but not safe-complete: {', '.join(unsafe)}")
    return 0 if report.ok and not unsafe else 1


def _gate_eval(args: argparse.Namespace) -> int:
    try:
        heldout = load_heldout(args.heldout)
    except (OSError, HeldoutError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print(format_scores(evaluate(heldout), verbose=args.verbose))
    return 0


def _gate_tune(args: argparse.Namespace) -> int:
    from chatbot.content.gate_tune import format_tuning, tune  # trains several models: only when asked

    print(format_tuning(tune()))
    return 0


def _graph(args: argparse.Namespace) -> int:
    library = _load(args)
    taps = taps_from(START, library)
    order = sorted(library.answers.values(), key=lambda a: (taps.get(a.id, 99), a.id))
    if args.dot:
        print(_dot(library, order, taps))
        return 0
    for answer in order:
        distance = f"{taps[answer.id]} taps" if answer.id in taps else "not from welcome"
        intent = f" intent={answer.intent}" if answer.intent else ""
        print(f"{answer.id} [{answer.kind}{intent}; {distance}]")
        for button, target in button_targets(answer, library):
            print(f"    {button.label!r} -> {target or f'{button.name} (missing)'}")
    return 0


def _extract(args: argparse.Namespace) -> int:
    library = _load(args)
    out = args.locales_dir / f"{DOMAIN}.pot"
    write_catalog(out, template(library, args.content_dir.parent))
    print(f"wrote {out} ({sum(len(a.messages()) for a in library.answers.values())} strings)")
    return 0


def _update(args: argparse.Namespace) -> int:
    library = _load(args)
    source = template(library, args.content_dir.parent)
    write_catalog(args.locales_dir / f"{DOMAIN}.pot", source)
    locales = {normalize(p.parent.parent.name) for p in args.locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    locales |= {normalize(x) for x in args.init}
    locales.discard(SOURCE_LOCALE)
    for locale in sorted(locales):
        path = args.locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        old = read_catalog(path) if path.exists() else None
        catalog, counts = merge(source, old, locale)
        write_catalog(path, catalog)
        print(
            f"{locale}: {counts['current']} current, {counts['fuzzy']} fuzzy (to confirm), "
            f"{counts['untranslated']} untranslated -> {path}"
        )
    return 0


def _dot(library: ContentLibrary, order: list[Answer], taps: dict[str, int]) -> str:
    shapes = {"answer": "box", "dialogue": "doubleoctagon", "notice": "note", "canned": "component"}
    lines = ["digraph answers {", "  rankdir=LR;", '  node [fontname="sans-serif" fontsize=10];']
    for answer in order:
        label = f"{answer.id}\\n{answer.intent or answer.kind} · {taps.get(answer.id, '-')} taps"
        lines.append(f'  "{answer.id}" [shape={shapes[answer.kind]} label="{label}"];')
    for answer in order:
        for button, target in button_targets(answer, library):
            label = button.label.replace('"', "'")
            style = "" if target else " color=red"
            lines.append(f'  "{answer.id}" -> "{target or button.name}" [label="{label}" fontsize=8{style}];')
    lines.append("}")
    return "\n".join(lines)
