"""The phrase lists of the wording rules for languages the meaning-based rules do not read yet (Arabic).

Swedish and English are read for meaning instead (chatbot.content.wording_rules); their lists here hold
only what the responsibility check needs (not your fault, who is responsible) and the negation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chatbot.content.guidelines.findings import T_


@dataclass(frozen=True)
class Phrases:
    blame: tuple[str, ...]
    promise: tuple[str, ...]
    personal_data: tuple[str, ...]
    negation: str
    not_your_fault: str
    who_is_responsible: str


PHRASES: Mapping[str, Phrases] = {
    "sv": Phrases(
        # Swedish and English are read for meaning instead (chatbot.content.wording_rules).
        blame=(),
        promise=(),
        personal_data=(),
        negation=r"\b(aldrig|inte|ingen|inget|behöver inte)\b",
        not_your_fault=r"\binte (ditt|ert) fel\b",
        who_is_responsible=r"\b(den|de|personen|han|hon|någon|vuxna|dem) som (hotar|sprider|pressar|lurar|utnyttjar|delar|tvingar)\b",
    ),
    "en": Phrases(
        # Swedish and English are read for meaning instead (chatbot.content.wording_rules).
        blame=(),
        promise=(),
        personal_data=(),
        negation=r"\b(never|not|no|don['’]?t|do not|won['’]?t|can['’]?t|cannot)\b",
        not_your_fault=r"\bnot your fault\b",
        who_is_responsible=r"\b(who|that)('s| is| are)? (threaten|spread|pressur|shar|trick|exploit|forc)\w*",
    ),
    # Arabic: unvocalised text (the check strips tashkeel first, see _unvocalised). Clitics attach to
    # words ("وسنزيلها"), so some patterns match inside a word on purpose.
    "ar": Phrases(
        blame=(
            r"كان (يجب|ينبغي|عليك) (عليك )?(ألا|أن لا|أن)",
            r"\bلماذا (أرسلت|فعلت|صورت|وثقت|رددت|شاركت|سمحت)\b",
            r"(?<!ليس )(?<!ليست )(?<!مش )\b(هذا|إنه|انه|هو) (خطؤك|خطأك|ذنبك|غلطتك)\b",
            r"\bأنت (السبب|المسؤول|المسؤولة|المذنب|المذنبة)\b",
            r"\bماذا كنت تفكر",
            r"\b(تصرف|شيء) (غبي|سخيف|ساذج)\b",
        ),
        promise=(
            r"\bست(زال|ختفي|حذف|مسح)\b|\bسي(زال|ختفي|حذف|مسح)\b",
            r"سن(زيل|حذف|مسح)(ها|ه|هم)?\b",
            r"\b(نعدك|أعدك|اعدك|نعدكم)\b",
            r"\b(مضمون|نضمن|أضمن|اضمن)",
            r"\b100 ?%",
            r"\bلن (يراها|يراه|يجدها) أحد",
            r"\bسيكون (كل شيء )?(بخير|على ما يرام)",
        ),
        personal_data=(
            r"\bما (هو )?اسمك\b",
            r"\bأين (تسكن|تعيش)\b",
            r"\b(أي|ما) مدرسة\b",
            r"\b(اسمك|عنوانك|رقمك|رقم هاتفك|مدرستك|بريدك|إيميلك)\b",
        ),
        negation=r"\b(لا|لن|لم|ليس|ليست|أبدا|بدون|دون)\b",
        not_your_fault=r"\b(ليس|ليست|مش|مو) (ذنبك|خطأك|خطؤك|غلطتك)\b",
        who_is_responsible=r"\b(الشخص|الأشخاص|من) (الذي |التي |الذين )?(يهدد|ينشر|يضغط|يستغل|يخدع|يجبر|يبتز)",
    ),
}


def search(patterns: Iterable[str], text: str) -> str | None:
    text = unvocalised(text)
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return match.group(0)
    return None


ARABIC_REASONS = {
    "blame": T_("blames the child"),
    "promise": T_("promises what we cannot keep"),
    "personal_data": T_("asks who the child is"),
}

# Arabic short vowels and other marks (tashkeel, U+064B-U+065F, U+0670) and the stretching tatweel
# (U+0640): optional in writing, so the phrase lists are written without them.
_TASHKEEL = re.compile("[\u064b-\u065f\u0670\u0640]")


def unvocalised(text: str) -> str:
    return _TASHKEEL.sub("", text)
