"""An imported .po that changes an entry a translator also changed in the workspace since the export: the
preview shows both side by side, the translator picks per entry (workspace, file or a new text), the
choice is audited, and nothing is overwritten silently."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.console.conftest import Console, StaffClient
from tests.console.test_translation_pages import field, signed_in

FILE_TEXT = "Hello! Good that you write."
WORKSPACE_TEXT = "Hi there! Good that you are writing."
MINE = "Hello there! Good that you are writing."


async def exported(tina: StaffClient) -> str:
    async with tina.http.get("/translate/en/export/content.po") as response:
        assert response.status == 200
        return (await response.read()).decode()


GREET = "/translate/en/answers/greet"


async def save_in_workspace(person: Any) -> None:
    """The translator saves WORKSPACE_TEXT for greet's first bubble on its answer page."""
    _, page = await person.get(GREET)
    assert "msg=saved" in await person.redirected(
        "/translate/en/save",
        {
            "domain": "content",
            "key": "greet:bubble:0",
            "text": WORKSPACE_TEXT,
            "seen": field(page, "greet:bubble:0", "seen"),
            "back": GREET,
        },
    )


async def test_a_conflict_is_shown_side_by_side_and_the_translator_picks(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    await tina.get("/translate/en/exchange")
    data = await exported(tina)
    # After the export, a colleague changes the same entry in the workspace.
    rami = await signed_in(make_account, staff_factory, "rami", "translator")
    await save_in_workspace(rami)
    # Tina's file changes it too (in Poedit, say), and one entry nobody else touched.
    changed = data.replace('msgstr "Hi! Good that you\'re writing."', f'msgstr "{FILE_TEXT}"', 1)
    changed = changed.replace('msgstr "You\'re welcome! Good that you got in touch."', 'msgstr "Cheers!"', 1)
    assert changed.count(FILE_TEXT) == 1
    b64 = base64.b64encode(changed.encode()).decode()
    status, page = await tina.post("/translate/en/import", {"domain": "content", "data": b64})
    assert status == 200
    conflict = page[page.index('<fieldset class="conflict" data-key="greet:bubble:0">') :]
    conflict = conflict[: conflict.index("</fieldset>")]
    assert WORKSPACE_TEXT in conflict and FILE_TEXT in conflict and "rami" in conflict
    assert page.count('<fieldset class="conflict"') == 1  # the other change is no conflict
    index = re.search(r'name="choice-(\d+)"', conflict)
    digest = re.search(r'name="digest" value="([^"]+)"', page)
    assert index and digest
    form = {"domain": "content", "data": b64, "digest": digest.group(1), "apply": "1"}

    # Without a choice nothing is imported, not even the change without a conflict.
    assert (await tina.redirected("/translate/en/import", form)).endswith("msg=choose")
    _, page = await tina.get(GREET)
    assert WORKSPACE_TEXT in page and FILE_TEXT not in page

    # A new text, checked like any save: a wrong number is refused, the right text goes in.
    i = index.group(1)
    refused = {**form, f"choice-{i}": "edit", f"text-{i}": "Hello! Call 113."}
    assert "msg=checks" in await tina.redirected("/translate/en/import", refused)
    chosen = {**form, f"choice-{i}": "edit", f"text-{i}": MINE}
    assert (await tina.redirected("/translate/en/import", chosen)).endswith("msg=imported")
    _, page = await tina.get(GREET)
    assert MINE in page and FILE_TEXT not in page
    _, page = await tina.get("/translate/en/answers/thanks")
    assert "Cheers!" in page
    actions = [(e.actor, e.action) for e in await console.audit.entries()]
    assert ("tina", "translation.import_conflict.en.content.greet:bubble:0.edit") in actions
    assert ("tina", "translation.imported.en.content.2") in actions


async def test_keeping_the_workspaces_text_leaves_it_and_an_export_after_the_edit_is_no_conflict(
    console: Console, make_account: Any, staff_factory: Any
) -> None:
    tina = await signed_in(make_account, staff_factory, "tina", "translator")
    await save_in_workspace(tina)
    console.clock.advance(120)  # the export is made two minutes after the edit: the file holds it
    data = await exported(tina)
    changed = data.replace(f'msgstr "{WORKSPACE_TEXT}"', f'msgstr "{FILE_TEXT}"', 1)
    assert changed != data
    b64 = base64.b64encode(changed.encode()).decode()
    _, page = await tina.post("/translate/en/import", {"domain": "content", "data": b64})
    assert '<fieldset class="conflict"' not in page and 'data-key="greet:bubble:0"' in page

    # The same file claiming to be older than the edit: now it is a conflict, and "workspace" keeps it.
    older = re.sub(r'"POT-Creation-Date: [^"]*"', '"POT-Creation-Date: 2020-01-01 00:00+0000\\\\n"', changed)
    b64 = base64.b64encode(older.encode()).decode()
    _, page = await tina.post("/translate/en/import", {"domain": "content", "data": b64})
    index = re.search(r'name="choice-(\d+)"', page)
    digest = re.search(r'name="digest" value="([^"]+)"', page)
    assert index and digest
    form = {"domain": "content", "data": b64, "digest": digest.group(1), "apply": "1"}
    assert (
        await tina.redirected("/translate/en/import", {**form, f"choice-{index.group(1)}": "workspace"})
    ).endswith("msg=imported")
    _, page = await tina.get(GREET)
    assert WORKSPACE_TEXT in page and FILE_TEXT not in page
    actions = [(e.actor, e.action) for e in await console.audit.entries()]
    assert ("tina", "translation.import_conflict.en.content.greet:bubble:0.workspace") in actions
