"""The draft page's overrules of the guideline gate: accept a warning with a reason, or report a sentence the
gate let pass. Thin views over console.domain.overrules; the draft page shows the form and the reviewer's list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from chatbot.content.wording import split_sentences
from chatbot.content.wording_bank import RULES
from console.appkeys import OVERRULES
from console.domain.accounts import Role
from console.domain.editing import Draft, EditingError
from console.domain.overrules import ACCEPTED, MISSED, REASON_MAX
from console.i18n import N_
from console.security import allow, staff_of
from console.views import tr

# What each refusal says on the page (the domain's codes).
ERRORS: Mapping[str, str] = {
    "blocking": N_(
        "This sentence breaks the rule, so it cannot be accepted: change it. Only warnings can be accepted."
    ),
    "no_warning": N_(
        "The check does not warn about this sentence for that rule, so there is nothing to accept."
    ),
    "flagged": N_("The check already refuses this sentence for that rule."),
    "not_in_draft": N_("That sentence is not in this answer of the draft. Save the draft first."),
    "unknown_rule": N_("Choose one of the rules."),
    "reason": N_("Give a short reason (at most %(max)s characters)."),
    "role": N_("Your role cannot do this."),
    "unknown_draft": N_("This draft does not exist (or was past its retention)."),
}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/content/drafts/{draft_id}/overrule", overrule, name="content_overrule")


async def context(request: web.Request, draft: Draft) -> dict[str, Any]:
    """What the draft page needs: the sentences one can overrule per answer, and the draft's overrules."""
    code = request.query.get("overrule_error", "")
    return {
        "overrule_sentences": {
            a: [s for b in e.bubbles for s in split_sentences(b)] for a, e in draft.edits.items()
        },
        "overrules": await request.app[OVERRULES].of_draft(draft.id),
        "overrule_rules": RULES,
        "overrule_error": tr(request, ERRORS[code], max=REASON_MAX) if code in ERRORS else "",
        "reason_max": REASON_MAX,
    }


@allow(Role.EDITOR, Role.SUPERVISOR)
async def overrule(request: web.Request) -> web.StreamResponse:
    staff = staff_of(request)
    draft_id = request.match_info["draft_id"]
    form = await request.post()
    kind = str(form.get("kind", ""))
    values = (
        draft_id,
        staff.name,
        staff.role,
        str(form.get("answer", "")),
        str(form.get("sentence", "")),
        str(form.get("rule", "")),
        str(form.get("reason", "")),
    )
    json_wanted = "application/json" in request.headers.get("Accept", "")
    overrules = request.app[OVERRULES]
    back = f"/content/drafts/{draft_id}"
    try:
        if kind == ACCEPTED:
            done = await overrules.accept(*values)
        elif kind == MISSED:
            done = await overrules.report(*values)
        else:
            raise web.HTTPBadRequest(text="kind must be accepted or missed")
    except EditingError as exc:
        status = 403 if exc.code == "role" else 404 if exc.code == "unknown_draft" else 422
        if json_wanted:
            return web.json_response({"error": exc.code, "detail": exc.message}, status=status)
        raise web.HTTPSeeOther(f"{back}?overrule_error={exc.code}#overrule-{values[3]}") from None
    if json_wanted:
        return web.json_response({"overrule": done.id, "kind": done.kind, "rule": done.rule})
    raise web.HTTPSeeOther(f"{back}#overrules")
