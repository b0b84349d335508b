"""The children's guidelines (content/guidelines.md) as checks over every answer and its translations.

`report.check_library` runs them all and returns a report with one entry per answer (ok, warnings,
violations) plus findings about the whole library (intents, the answer graph). Blame, promises and personal
data are read for meaning in Swedish and English (chatbot.content.wording_rules, with a classifier over the
labelled bank in chatbot.content.wording_bank for what no pattern covers), and with phrase lists in Arabic.
Where the gate is unsure it warns the reviewer and says why; a rule that needs judgement stays with the
human reviewer.
"""
