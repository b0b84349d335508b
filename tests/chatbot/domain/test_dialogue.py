"""The bot's dialogue with its real parts: the embedded intent model, content, a private Redis, a set clock."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from chatbot.clock import FixedClock
from chatbot.content.library import ContentLibrary
from chatbot.domain import errors
from chatbot.domain.bot import BotContext, BotTurn
from chatbot.domain.conversations import ConversationService
from chatbot.domain.dialogue import MAX_GRANTS, DialogueBot
from chatbot.domain.ending import Ending
from chatbot.gateway.assembly import build_bot, build_nlu
from chatbot.model import ConversationState
from chatbot.nlu.service import Nlu
from chatbot.settings import Settings
from chatbot.store import keys
from chatbot.store.content_versions import ShownCounts
from chatbot.store.conversations import ConversationStore
from chatbot.upload import codes, crypto
from chatbot.upload.wiring import Uploads, build_uploads
from tests.chatbot.upload.helpers import KEYS, file_entry, open_conversation, upload_settings

STHLM = ZoneInfo("Europe/Stockholm")
OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=STHLM)  # a Tuesday morning
CLOSED = datetime(2026, 11, 28, 20, 0, tzinfo=STHLM)  # a Saturday evening

# One message per intent, as a child might type it, in both languages (not training examples).
PHRASES = {
    "sv": {
        "greet": "hej hej",
        "goodbye": "hejdå nu måste jag gå",
        "thanks": "tack så mycket",
        "takedown_help": "en bild på mig sprids på snapchat",
        "upload_help": "hur laddar jag upp filmen till er",
        "sextortion": "han hotar att sprida mina nakenbilder om jag inte swishar pengar",
        "grooming": "en vuxen man vill att jag skickar bilder och inte berättar för någon",
        "safety_tips": "hur gör jag mitt konto privat",
        "report_police": "ska jag polisanmäla det här",
        "anonymity": "sparar ni det jag skriver",
        "self_blame": "det är mitt eget fel att jag skickade bilden",
        "out_of_scope": "kan du hjälpa mig med matteläxan",
    },
    "en": {
        "greet": "hello there",
        "takedown_help": "my nude is being shared on instagram",
        "sextortion": "he says he will post my pics unless i pay him",
        "safety_tips": "how do i make my account private",
        "report_police": "should i report this to the police",
        "anonymity": "do you save what i write",
    },
}


@pytest.fixture(scope="session")
def nlu() -> Nlu:
    return build_nlu(Settings())


@pytest.fixture(scope="session")
def content() -> ContentLibrary:
    settings = Settings()
    return ContentLibrary.load(settings.content_dir, settings.locales_dir, settings.default_locale)


class Chat:
    """One conversation in Redis, talked to through the dialogue bot directly."""

    def __init__(
        self, bot: DialogueBot, store: ConversationStore, conv_id: str, locale: str, uploads: Uploads
    ) -> None:
        self.bot, self.store, self.conv_id, self.locale = bot, store, conv_id, locale
        self.uploads = uploads

    async def state(self) -> ConversationState:
        return ConversationState((await self.store.meta(self.conv_id))["state"])

    async def say(self, text: str) -> BotTurn:
        ctx = BotContext(self.conv_id, self.locale, await self.state())
        turn = await self.bot.respond(ctx, text)
        if turn.state is not None:
            await self.store.set_state(self.conv_id, turn.state)
        for name, value in turn.marks:  # what the conversation service stores with the answer
            await self.store.set_flag(self.conv_id, name, value)
        return turn


@pytest.fixture
async def make_chat(redis: Redis, nlu: Nlu, content: ContentLibrary, tmp_path: Path) -> object:
    clock = FixedClock(OPEN)
    settings = upload_settings(Settings(), tmp_path / "uploads")
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    uploads = build_uploads(settings, redis, clock)
    bot = build_bot(settings, redis, store, clock, nlu, content, uploads)
    count = 0

    async def make(locale: str = "sv") -> Chat:
        nonlocal count
        count += 1
        conv_id = f"conv{count}"
        await store.create(f"h{count}", conv_id, now_ms=0, retention=3600, locale=locale)
        return Chat(bot, store, conv_id, locale, uploads)

    make.clock = clock  # type: ignore[attr-defined]
    make.service = ConversationService(  # type: ignore[attr-defined]
        store, bot, clock, settings, Ending(store, content, clock, settings)
    )
    return make


def texts(turn: BotTurn) -> list[str]:
    return [r.text for r in turn.replies]


def expected(content: ContentLibrary, answer_id: str, locale: str, **params: object) -> list[str]:
    base: dict[str, object] = {"retention_days": 7, "next_open": "", **params}
    return [r.text for r in content.get(answer_id).replies(locale, **base)]


@pytest.mark.parametrize(
    ("locale", "intent", "phrase"),
    [(locale, intent, phrase) for locale, table in PHRASES.items() for intent, phrase in table.items()],
)
async def test_free_text_reaches_the_intents_answer(
    make_chat: object, content: ContentLibrary, locale: str, intent: str, phrase: str
) -> None:
    chat = await make_chat(locale)  # type: ignore[operator]
    turn = await chat.say(phrase)
    answer = content.for_intent(intent)
    assert answer is not None
    assert turn.replies[0].intent == intent
    assert texts(turn) == expected(content, answer.id, locale)


async def test_english_answers_are_english_and_swedish_are_swedish(
    make_chat: object, content: ContentLibrary
) -> None:
    sv = await make_chat("sv")  # type: ignore[operator]
    en = await make_chat("en")  # type: ignore[operator]
    sv_turn = await sv.say("/takedown_help")
    en_turn = await en.say("/takedown_help")
    assert texts(sv_turn) == expected(content, "takedown_help", "sv")
    assert texts(en_turn) == expected(content, "takedown_help", "en")
    assert texts(sv_turn) != texts(en_turn)
    assert [q.payload for q in sv_turn.replies[-1].quick_replies] == [
        q.payload for q in en_turn.replies[-1].quick_replies
    ]


async def test_every_intent_button_is_answered_in_both_languages(
    make_chat: object, content: ContentLibrary
) -> None:
    for locale in ("sv", "en"):
        chat = await make_chat(locale)  # type: ignore[operator]
        for intent in (
            "goodbye",
            "thanks",
            "affirm",
            "deny",
            "takedown_help",
            "upload_help",
            "sextortion",
            "grooming",
            "safety_tips",
            "report_police",
            "anonymity",
            "opening_hours",
            "self_blame",
            "case_status",
            "out_of_scope",
        ):
            turn = await chat.say(f"/{intent}")
            assert turn.replies, intent
            assert turn.replies[0].intent == intent, (locale, intent)


async def test_low_confidence_asks_again_and_offers_a_person(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    turn = await chat.say("qwzx plofj")
    assert texts(turn) == expected(content, "fallback", "sv")
    assert "/ask_human" in {q.payload for q in turn.replies[-1].quick_replies}


async def test_asking_for_a_person_when_open_asks_first_then_queues(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    first = await make_chat()  # type: ignore[operator]
    second = await make_chat()  # type: ignore[operator]
    turn = await first.say("kan jag få prata med en människa")
    assert texts(turn) == expected(content, "ask_human", "sv")
    assert await first.state() is ConversationState.BOT  # nothing happens before the child chooses
    assert "/handoff_queued" in {q.payload for q in turn.replies[-1].quick_replies}

    turn = await first.say("/handoff_queued")
    assert turn.state is ConversationState.QUEUED
    consent = expected(content, "transcript_consent", "sv")
    assert texts(turn) == expected(content, "handoff_queued", "sv", position=1, wait=15) + consent
    turn = await second.say("/handoff_queued")
    assert texts(turn) == expected(content, "handoff_queued", "sv", position=2, wait=30) + consent
    assert await redis.zrange(keys.QUEUE, 0, -1) == [b"conv1", b"conv2"]

    # Asking again while queued tells the place, and keeps it.
    turn = await second.say("/ask_human")
    assert texts(turn) == expected(content, "queue_update", "sv", position=2, wait=30)
    # While queued the bot keeps helping.
    assert (await second.say("/safety_tips")).replies[0].intent == "safety_tips"
    # Leaving is the child's choice, and frees the place.
    turn = await first.say("/leave_queue")
    assert turn.state is ConversationState.BOT
    assert await redis.zrange(keys.QUEUE, 0, -1) == [b"conv2"]


async def test_waits_shrink_with_free_counsellors(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    await redis.hset(keys.COUNSELLORS_AVAILABLE, mapping={"sam": 1})
    chat = await make_chat()  # type: ignore[operator]
    turn = await chat.say("/handoff_queued")
    assert texts(turn)[:3] == expected(content, "handoff_queued", "sv", position=1, wait=1)


async def test_closed_line_says_when_it_opens_in_the_childs_language(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    make_chat.clock.set(CLOSED)  # type: ignore[attr-defined]
    sv = await make_chat("sv")  # type: ignore[operator]
    en = await make_chat("en")  # type: ignore[operator]
    for text in ("/ask_human", "/handoff_queued", "jag vill prata med en vuxen"):
        turn = await sv.say(text)
        assert texts(turn) == expected(content, "handoff_closed", "sv", next_open="mån 30 november 09:00")
    turn = await en.say("/ask_human")
    assert "Mon 30 November, 09:00" in " ".join(texts(turn))
    assert await redis.zcard(keys.QUEUE) == 0
    turn = await sv.say("/opening_hours")
    assert "mån 30 november 09:00" in " ".join(texts(turn))


@pytest.mark.parametrize(
    "state", [ConversationState.BOT, ConversationState.QUEUED, ConversationState.COUNSELLOR]
)
async def test_crisis_gets_emergency_help_in_every_state(
    make_chat: object, content: ContentLibrary, redis: Redis, state: ConversationState
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    await chat.store.set_state(chat.conv_id, state)
    turn = await chat.say("jag orkar inte leva längre")
    assert turn.urgent
    body = " ".join(texts(turn))
    assert "112" in body and "116 111" in body and "90101" in body
    assert (await chat.store.meta(chat.conv_id))["urgent"] == "1"


async def test_crisis_moves_a_waiting_child_to_the_front(make_chat: object, redis: Redis) -> None:
    first = await make_chat()  # type: ignore[operator]
    second = await make_chat()  # type: ignore[operator]
    await first.say("/handoff_queued")
    await second.say("/handoff_queued")
    await second.say("jag vill dö")
    assert await redis.zrange(keys.QUEUE, 0, -1) == [b"conv2", b"conv1"]


async def test_after_hand_off_the_bot_is_silent(make_chat: object) -> None:
    chat = await make_chat()  # type: ignore[operator]
    await chat.store.set_state(chat.conv_id, ConversationState.COUNSELLOR)
    for text in ("hej", "/takedown_help", "min bild sprids", "/ask_human"):
        assert (await chat.say(text)).replies == []


async def test_slash_typed_by_hand_is_still_checked_for_crisis(make_chat: object) -> None:
    chat = await make_chat()  # type: ignore[operator]
    turn = await chat.say("/ jag vill ta livet av mig")
    assert turn.urgent


async def test_payloads_cannot_call_up_notices_that_need_context(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    for payload in ("/counsellor_joined", "/queue_update", "/rate_limited", "/conversation_ended"):
        turn = await chat.say(payload)
        assert texts(turn) == expected(content, "fallback", "sv"), payload
    # An unknown '/name' is answered, never an error: with the fallback (test below); "/" and "//" are
    # text like any message.
    for text in ("/no_such_thing", "/", "//"):
        assert (await chat.say(text)).replies, text


async def test_rasa_init_and_restart_payloads_get_the_welcome(
    make_chat: object, content: ContentLibrary
) -> None:
    """Issue 17: rasa-webchat's init payload `/get_started` went to the intent model (self_blame)."""
    for locale in ("sv", "en"):
        chat = await make_chat(locale)  # type: ignore[operator]
        for payload in ("/get_started", "/greet", "/restart", "/session_start", '/get_started{"a": 1}'):
            turn = await chat.say(payload)
            assert texts(turn) == expected(content, "welcome", locale), payload
            assert not turn.urgent and turn.state is None


async def test_unknown_slash_payloads_get_the_fallback_never_an_intent_guess(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat("en")  # type: ignore[operator]
    # Each of these names an intent's words; as a payload nobody knows, none is guessed from its letters.
    for payload in ("/my_fault", "/remove_my_picture", "/police_report", "/hello", '/blame{"x": 1}'):
        turn = await chat.say(payload)
        assert texts(turn) == expected(content, "fallback", "en"), payload
        assert all(r.intent is None for r in turn.replies)


async def test_a_slash_payload_with_words_about_danger_still_gets_the_crisis_answer(
    make_chat: object,
) -> None:
    chat = await make_chat("en")  # type: ignore[operator]
    turn = await chat.say("/suicide")
    assert turn.urgent


async def test_hours_a_supervisor_set_in_the_console_are_what_children_are_told(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    # Tuesday 10:00 is open by the settings; the supervisor has opened weekends only.
    await redis.hset(keys.HOURS, mapping={"weekly": "sat-sun 10:00-12:00", "exceptions": ""})
    chat = await make_chat()  # type: ignore[operator]
    turn = await chat.say("/handoff_queued")
    assert texts(turn) == expected(content, "handoff_closed", "sv", next_open="lör 28 november 10:00")
    assert await redis.zcard(keys.QUEUE) == 0


# --- case status -----------------------------------------------------------------------------------------


async def new_case(uploads: Uploads) -> str:
    """A real case through the upload service: grant, start, ciphertext, finish; returns its code."""
    plain = b"image bytes " * 500
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="bild.png", type="image/png")
    await open_conversation(uploads.uploads._store.redis, "conv-upload")
    grant = await uploads.uploads.issue_grant("conv-upload", topic="takedown_help")
    started = await uploads.uploads.start(
        grant.token, age_band="13_15", consent=True, files=[file_entry(blob, plain)]
    )
    await uploads.uploads.write(started.token, 0, 0, blob)
    return await uploads.uploads.finish(started.token)


async def case_id(uploads: Uploads) -> str:
    (case,) = await uploads.cases.list_cases()
    return case.case_id


@pytest.mark.parametrize("locale", ["sv", "en"])
async def test_a_case_code_in_a_message_tells_the_status_in_the_childs_language(
    make_chat: object, content: ContentLibrary, locale: str
) -> None:
    chat = await make_chat(locale)  # type: ignore[operator]
    code = await new_case(chat.uploads)
    day = "24 november" if locale == "sv" else "24 November"
    turn = await chat.say(f"status {code}")
    assert texts(turn) == expected(content, "case_status_received", locale, updated=day)
    # However the child writes it: lower case, spaces, run together, 0 read as O.
    written = code.lower().replace("-", " ").replace("0", "o")
    turn = await chat.say(f"vad har hänt med {written}?")
    assert texts(turn) == expected(content, "case_status_received", locale, updated=day)

    cases = chat.uploads.cases
    the_case = await case_id(chat.uploads)
    for action, status in (
        ("reviewed", "reviewed"),
        ("reported_platform", "reported"),
        ("removed", "removed"),
        ("closed", "closed"),
    ):
        await cases.record_action("analyst-1", the_case, action)
        turn = await chat.say(code)
        assert texts(turn) == expected(content, f"case_status_{status}", locale, updated=day), status


async def test_bad_codes_get_kind_typed_answers(make_chat: object, content: ContentLibrary) -> None:
    chat = await make_chat()  # type: ignore[operator]
    code = await new_case(chat.uploads)
    plain = code.replace("-", "")
    # One character wrong: the check character catches it.
    wrong = plain[:5] + ("Z" if plain[5] != "Z" else "Y") + plain[6:]
    assert texts(await chat.say(f"min kod är {wrong}")) == expected(content, "case_code_mistyped", "sv")
    # Two neighbours swapped.
    i = next(i for i in range(len(plain) - 1) if plain[i] != plain[i + 1])
    swapped = plain[:i] + plain[i + 1] + plain[i] + plain[i + 2 :]
    assert texts(await chat.say(swapped)) == expected(content, "case_code_mistyped", "sv")
    # A code's shape with a letter no code has (U), and a well-formed code of no case.
    assert texts(await chat.say("ABCD-EFGH-JKMN-PQRS-TVWU")) == expected(content, "case_code_malformed", "sv")
    unknown = codes.new_case_code()
    assert texts(await chat.say(unknown)) == expected(content, "case_code_unknown", "sv")


async def test_asking_without_a_code_asks_for_it_and_reads_the_next_message(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    code = await new_case(chat.uploads)
    turn = await chat.say("vad har hänt med mitt ärende")
    assert turn.replies[0].intent == "case_status"
    assert texts(turn) == expected(content, "case_status", "sv")
    assert texts(await chat.say(code)) == expected(
        content, "case_status_received", "sv", updated="24 november"
    )

    # A try that is too short is answered as a code only right after the bot asked for one ...
    await chat.say("/case_status")
    for attempt in ("ABCD-1234", "k7p2 9xq4 mmr1"):
        assert texts(await chat.say(attempt)) == expected(content, "case_code_malformed", "sv"), attempt
    # ... and the same words later, out of the blue, are ordinary text.
    make_chat.clock.advance(11 * 60)  # type: ignore[attr-defined]
    assert texts(await chat.say("ABCD-1234")) != expected(content, "case_code_malformed", "sv")


async def test_the_code_is_masked_before_the_message_is_stored(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    code = await new_case(chat.uploads)
    service: ConversationService = make_chat.service  # type: ignore[attr-defined]
    received = await service.receive(chat.conv_id, "sv", f"hej! status {code.lower()} tack", "m-1")
    raw = b" ".join(await redis.lrange(keys.log(chat.conv_id), 0, -1)).decode()
    plain = code.replace("-", "")
    assert plain not in raw.upper().replace("-", "").replace(" ", "")
    assert f"hej! status {codes.MASK} tack" in raw
    assert received.entry.text == f"hej! status {codes.MASK} tack"
    # The bot still read the real code: the answer is the case's status.
    assert [e.text for e in received.replies] == expected(
        content, "case_status_received", "sv", updated="24 november"
    )
    # Words that only look like a code's groups stay as the child wrote them (a counsellor reads them).
    words = "jag vill inte leva utan dina"
    received = await service.receive(chat.conv_id, "sv", words, "m-2")
    assert received.entry.text == words and received.urgent


@pytest.mark.parametrize("locale", ["sv", "en"])
async def test_with_a_counsellor_a_code_still_gets_the_status_and_everything_else_stays_silent(
    make_chat: object, content: ContentLibrary, redis: Redis, locale: str
) -> None:
    chat = await make_chat(locale)  # type: ignore[operator]
    code = await new_case(chat.uploads)
    day = "24 november" if locale == "sv" else "24 November"
    await chat.say("/case_status")  # the bot asked for a code before the counsellor came
    await chat.store.set_state(chat.conv_id, ConversationState.COUNSELLOR)
    service: ConversationService = make_chat.service  # type: ignore[attr-defined]
    # The child gives the counsellor their code: the status is the bot's one answer, the log masks it.
    received = await service.receive(chat.conv_id, locale, f"min kod är {code.lower()}", "m-1")
    assert received.entry.text == f"min kod är {codes.MASK}"
    assert [e.text for e in received.replies] == expected(
        content, "case_status_received", locale, updated=day
    )
    # Without its buttons: with a counsellor they would lead into a silent bot.
    assert all(not e.quick_replies for e in received.replies)
    raw = b" ".join(await redis.lrange(keys.log(chat.conv_id), 0, -1)).decode().upper()
    assert code.replace("-", "") not in raw.replace("-", "").replace(" ", "")
    assert (await chat.store.meta(chat.conv_id))["state"] == "counsellor"
    # A bad code is a lookup too, and gets its kind answer.
    unknown = codes.new_case_code()
    assert texts(await chat.say(unknown)) == expected(content, "case_code_unknown", locale)
    # Anything else is the counsellor's to answer: ordinary words, buttons, and a near-code (the bot
    # asked for a code earlier, but with a counsellor there such words are meant for them).
    for text in ("hej", "min bild sprids", "/takedown_help", "/case_status", "ABCD-1234"):
        assert (await chat.say(text)).replies == [], text


async def test_with_a_counsellor_crisis_still_comes_before_a_code(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    code = await new_case(chat.uploads)
    await chat.store.set_state(chat.conv_id, ConversationState.COUNSELLOR)
    turn = await chat.say(f"jag vill dö. min kod är {code}")
    assert turn.urgent and texts(turn) == expected(content, "crisis_counsellor", "sv")


# --- the upload offer ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "state", [ConversationState.BOT, ConversationState.QUEUED, ConversationState.COUNSELLOR]
)
async def test_opening_the_upload_gives_a_working_one_time_grant_in_every_state(
    make_chat: object, redis: Redis, state: ConversationState
) -> None:
    make_chat.clock.set(CLOSED)  # type: ignore[attr-defined]  # also when the line is closed
    chat = await make_chat()  # type: ignore[operator]
    await chat.say("en bild på mig sprids på snapchat")  # the bot learns the topic
    await chat.store.set_state(chat.conv_id, state)
    grant = await chat.bot.upload_grant(BotContext(chat.conv_id, "sv", state))
    assert len(grant.token) == 43 and grant.max_files == 3
    # The token is nowhere in the conversation; Redis holds only its hash.
    dump = b" ".join(await redis.lrange(keys.log(chat.conv_id), 0, -1))
    dump += b" ".join(v for v in (await redis.hgetall(keys.conversation(chat.conv_id))).values())
    assert grant.token.encode() not in dump
    plain = b"x" * 2000
    blob = crypto.encrypt(plain, [k.public for k in KEYS], name="a.png", type="image/png")
    started = await chat.uploads.uploads.start(
        grant.token, age_band="under_13", consent=True, files=[file_entry(blob, plain)]
    )
    await chat.uploads.uploads.write(started.token, 0, 0, blob)
    await chat.uploads.uploads.finish(started.token)
    (case,) = await chat.uploads.cases.list_cases()
    assert (case.topic, case.age_band) == ("takedown_help", "under_13")


async def test_upload_grants_are_limited_per_conversation(make_chat: object) -> None:
    chat = await make_chat()  # type: ignore[operator]
    ctx = BotContext(chat.conv_id, "sv", ConversationState.BOT)
    tokens = {(await chat.bot.upload_grant(ctx)).token for _ in range(MAX_GRANTS)}
    assert len(tokens) == MAX_GRANTS
    with pytest.raises(errors.UploadLimit):
        await chat.bot.upload_grant(ctx)
    other = await make_chat()  # type: ignore[operator]
    assert await other.bot.upload_grant(BotContext(other.conv_id, "sv", ConversationState.BOT))


async def test_no_grant_without_keys_or_for_an_ended_conversation(
    redis: Redis, nlu: Nlu, content: ContentLibrary, make_chat: object
) -> None:
    settings = Settings()  # UPLOAD_PUBLIC_KEYS empty: nothing could ever be decrypted
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    clock = FixedClock(OPEN)
    bot = build_bot(settings, redis, store, clock, nlu, content, build_uploads(settings, redis, clock))
    await store.create("hx", "conv-x", now_ms=0, retention=3600, locale="sv")
    with pytest.raises(errors.UploadsUnavailable):
        await bot.upload_grant(BotContext("conv-x", "sv", ConversationState.BOT))

    chat = await make_chat()  # type: ignore[operator]
    await chat.store.end(chat.conv_id, [], reason="end_chat", session_hash=None, now_ms=0, retention=3600)
    with pytest.raises(errors.ConversationEnded):
        await chat.bot.upload_grant(BotContext(chat.conv_id, "sv", ConversationState.BOT))
    with pytest.raises(errors.ConversationEnded):
        await chat.bot.upload_grant(BotContext("no-such-conversation", "sv", ConversationState.BOT))


async def test_the_upload_answers_offer_the_upload_button(make_chat: object) -> None:
    chat = await make_chat()  # type: ignore[operator]
    for payload in ("/upload_help", "/upload_how", "/upload_problem"):
        turn = await chat.say(payload)
        assert "/upload_start" in {q.payload for q in turn.replies[-1].quick_replies}, payload
    # A client without the upload panel that sends the payload gets words, not silence.
    turn = await chat.say("/upload_start")
    assert turn.replies and "/ask_human" in {q.payload for q in turn.replies[-1].quick_replies}


# --- transcript consent ----------------------------------------------------------------------------------


async def test_joining_the_queue_asks_whether_the_counsellor_may_read_the_chat(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    turn = await chat.say("/handoff_queued")
    assert texts(turn)[-2:] == expected(content, "transcript_consent", "sv")
    assert [q.payload for q in turn.replies[-1].quick_replies] == [
        "/transcript_consent_yes",
        "/transcript_consent_no",
        "/leave_queue",
    ]
    # Not answered: the default is no (the console hides the part before the counsellor joined).
    assert "transcript_consent" not in await chat.store.meta(chat.conv_id)
    # Waiting and talking without answering is fine; asking for a person again does not ask again.
    assert (await chat.say("/safety_tips")).replies[0].intent == "safety_tips"
    turn = await chat.say("/ask_human")
    assert texts(turn) == expected(content, "queue_update", "sv", position=1, wait=15)

    turn = await chat.say("/transcript_consent_yes")
    assert texts(turn) == expected(content, "transcript_consent_yes", "sv")
    assert (await chat.store.meta(chat.conv_id))["transcript_consent"] == "1"
    turn = await chat.say("/transcript_consent_no")  # the child changed their mind
    assert texts(turn) == expected(content, "transcript_consent_no", "sv")
    assert (await chat.store.meta(chat.conv_id))["transcript_consent"] == "0"

    # Left and queued again: answered already, so not asked again.
    await chat.say("/leave_queue")
    turn = await chat.say("/handoff_queued")
    assert texts(turn) == expected(content, "handoff_queued", "sv", position=1, wait=15)


async def test_consent_given_after_the_counsellor_joined_counts_and_the_bot_stays_silent(
    make_chat: object,
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    await chat.say("/handoff_queued")
    await chat.store.set_state(chat.conv_id, ConversationState.COUNSELLOR)
    turn = await chat.say("/transcript_consent_yes")
    assert turn.replies == []
    assert (await chat.store.meta(chat.conv_id))["transcript_consent"] == "1"
    # Typed words are not an answer to the question: only the buttons are.
    other = await make_chat()  # type: ignore[operator]
    await other.say("/handoff_queued")
    await other.say("ja")
    assert "transcript_consent" not in await other.store.meta(other.conv_id)


# --- languages: crisis in the language written, and languages the bot cannot read ----------------------

ARABIC_CRISIS = {
    "msa": "لا أريد أن أعيش بعد الآن",
    "msa_vowels": "أُرِيدُ أَنْ أَمُوتَ",
    "levantine": "ما عاد بدي عيش",
    "iraqi": "راح أموّت روحي",
    "egyptian": "عايزة أموت خلاص",
    "gulf": "ودي أموت",
    "latin": "bdi mout",
}


@pytest.mark.parametrize("variety", sorted(ARABIC_CRISIS))
async def test_an_arabic_crisis_message_in_a_swedish_widget_gets_the_crisis_answer_in_arabic(
    make_chat: object, content: ContentLibrary, variety: str
) -> None:
    chat = await make_chat("sv")  # type: ignore[operator]
    turn = await chat.say(ARABIC_CRISIS[variety])
    assert turn.urgent
    assert texts(turn) == expected(content, "crisis", "ar")
    assert "112" in texts(turn)[0] and "116 111" in texts(turn)[0] and "90101" in texts(turn)[0]


async def test_a_crisis_in_the_widgets_own_language_stays_in_it(
    make_chat: object, content: ContentLibrary
) -> None:
    sv = await make_chat("sv")  # type: ignore[operator]
    assert texts(await sv.say("jag vill inte leva längre")) == expected(content, "crisis", "sv")
    en = await make_chat("en")  # type: ignore[operator]
    assert texts(await en.say("i want to die")) == expected(content, "crisis", "en")
    # Swedish written in an English widget: the language the child wrote.
    assert texts(await en.say("jag vill ta livet av mig")) == expected(content, "crisis", "sv")


async def test_arabic_crisis_falls_back_to_the_widget_language_where_arabic_is_not_offered(
    redis: Redis, nlu: Nlu, content: ContentLibrary, tmp_path: Path
) -> None:
    clock = FixedClock(OPEN)
    settings = upload_settings(Settings(), tmp_path / "uploads")
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF)
    bot = build_bot(
        settings,
        redis,
        store,
        clock,
        nlu,
        content,
        build_uploads(settings, redis, clock),
        languages=("sv", "en"),
    )
    await store.create("h1", "c1", now_ms=0, retention=3600, locale="sv")
    chat = Chat(bot, store, "c1", "sv", build_uploads(settings, redis, clock))
    turn = await chat.say("بدي موت")
    assert turn.urgent and texts(turn) == expected(content, "crisis", "sv")
    # Arabic that is no crisis, where Arabic is not offered: told so, in Swedish, with the numbers.
    assert texts(await chat.say("صورتي تنتشر على سناب شات")) == expected(content, "language_unknown", "sv")


@pytest.mark.parametrize(
    "text",
    [
        "nie wiem co mam robić, ktoś wysłał moje zdjęcie",  # Polish
        "Привет, мне нужна помощь",  # Russian
        "ሰላም ሓገዝ የድልየኒ",  # Tigrinya
        "من کمک میخوام",  # Persian
        "ich brauche hilfe mit einem bild",  # German, no special letters
    ],
)
@pytest.mark.parametrize("locale", ["sv", "en", "ar"])
async def test_a_language_the_bot_cannot_read_is_told_so_in_the_widgets_language(
    make_chat: object, content: ContentLibrary, text: str, locale: str
) -> None:
    chat = await make_chat(locale)  # type: ignore[operator]
    turn = await chat.say(text)
    assert texts(turn) == expected(content, "language_unknown", locale)
    assert texts(turn) != expected(content, "fallback", "sv")
    first = texts(turn)[0]
    assert "112" in first and "116 111" in first and "90101" in first
    assert {b.payload for b in turn.replies[-1].quick_replies} == {"/ask_human", "/crisis_who"}


async def test_arabic_is_understood_in_an_arabic_widget(make_chat: object, content: ContentLibrary) -> None:
    chat = await make_chat("ar")  # type: ignore[operator]
    turn = await chat.say("شخص يهددني بنشر صوري إذا ما دفعت")
    assert turn.replies[0].intent == "sextortion"
    assert texts(turn) == expected(content, "sextortion", "ar")
    assert texts(await chat.say("/takedown_help")) == expected(content, "takedown_help", "ar")


# --- the bot and the counsellor never talk over each other; hours true in every state -------------------


async def test_crisis_with_a_counsellor_shows_the_numbers_and_never_offers_another_counsellor(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    await chat.store.set_state(chat.conv_id, ConversationState.COUNSELLOR)
    turn = await chat.say("jag vill inte leva längre")
    assert turn.urgent and (await chat.store.meta(chat.conv_id))["urgent"] == "1"
    assert texts(turn) == expected(content, "crisis_counsellor", "sv")
    body = " ".join(texts(turn))
    assert "112" in body and "116 111" in body and "90101" in body
    assert "kurator här också" not in body
    # No button: the bot is silent with a counsellor, so none could lead anywhere (least of all the queue).
    assert [q for r in turn.replies for q in r.quick_replies] == []
    assert "kurator här också" in " ".join(expected(content, "crisis", "sv"))  # what it used to say


async def test_crisis_out_of_hours_offers_only_what_is_open_now(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    make_chat.clock.set(CLOSED)  # type: ignore[attr-defined]
    # Each in its own language: a crisis is answered in the language it was written in.
    for locale, words in (("sv", "jag vill inte leva längre"), ("en", "i don't want to live anymore")):
        chat = await make_chat(locale)  # type: ignore[operator]
        turn = await chat.say(words)
        assert turn.urgent
        assert texts(turn) == expected(content, "crisis_closed", locale)
        body = " ".join(texts(turn))
        assert "112" in body and "116 111" in body and "90101" in body
        payloads = [q.payload for r in turn.replies for q in r.quick_replies]
        assert "/handoff_queued" not in payloads and "/ask_human" not in payloads
        assert not any(
            "now" in q.title or "nu" in q.title.split() for r in turn.replies for q in r.quick_replies
        )
    assert await redis.zcard(keys.QUEUE) == 0
    # While open, the crisis answer offers a person now, as before.
    make_chat.clock.set(OPEN)  # type: ignore[attr-defined]
    chat = await make_chat()  # type: ignore[operator]
    turn = await chat.say("jag vill inte leva längre")
    assert texts(turn) == expected(content, "crisis", "sv")


@pytest.mark.parametrize(
    ("moment", "locale", "says"),
    [
        (OPEN, "sv", "Vi har öppet nu, till 16:00."),
        (OPEN, "en", "We are open now, until 16:00."),
        (CLOSED, "sv", "Nästa gång vi har öppet är mån 30 november 09:00."),
    ],
)
async def test_opening_hours_say_something_true_in_every_state(
    make_chat: object, moment: datetime, locale: str, says: str
) -> None:
    make_chat.clock.set(moment)  # type: ignore[attr-defined]
    chat = await make_chat(locale)  # type: ignore[operator]
    for text in ("/opening_hours", "när har ni öppet" if locale == "sv" else "/opening_hours"):
        body = " ".join(texts(await chat.say(text)))
        assert says in body
        assert " ." not in body and "är ." not in body and "{" not in body


async def test_with_no_opening_scheduled_nothing_names_an_empty_time(
    make_chat: object, content: ContentLibrary, redis: Redis
) -> None:
    # A supervisor closed the line until further notice: no opening in the coming weeks.
    await redis.hset(keys.HOURS, mapping={"weekly": "", "exceptions": ""})
    chat = await make_chat()  # type: ignore[operator]
    for text in ("/opening_hours", "/ask_human", "/handoff_queued"):
        turn = await chat.say(text)
        assert texts(turn) == expected(content, "hours_unknown", "sv"), text
    turn = await chat.say("jag vill inte leva längre")
    assert texts(turn) == expected(content, "crisis_closed", "sv")
    assert await redis.zcard(keys.QUEUE) == 0


async def test_a_payload_naming_a_canned_reply_gets_the_fallback(
    make_chat: object, content: ContentLibrary
) -> None:
    """Canned replies are a counsellor's to send (kind `canned`); a child's payload never calls one up."""
    chat = await make_chat("sv")  # type: ignore[operator]
    canned = [a.id for a in content.answers.values() if a.kind == "canned"]
    assert canned
    for answer_id in canned:
        turn = await chat.say(f"/{answer_id}")
        assert texts(turn) == expected(content, "fallback", "sv"), answer_id


# What children write in one conversation: answers with no effect (a greeting, guidance, a topic that
# marks the conversation, the hours), and the ones with effects (a code asked for, the queue, a crisis).
ONE_CONVERSATION = (
    "hej",
    "min bild sprids",
    "/takedown_help",
    "när har ni öppet",
    "/case_status",
    "ABCD-1234",
    "/get_started",
    "/whatever",
    "tack",
    "/handoff_queued",
    "hej igen",
    "jag vill inte leva längre",
    "okej",
)


async def test_answers_stored_with_the_message_are_those_stored_after_it(
    redis: Redis, nlu: Nlu, content: ContentLibrary, tmp_path: Path
) -> None:
    """The same conversation twice: once with every message answered after it is stored (two steps), once
    with answers that have no effect stored with the message (one step). Logs, meta and counts agree, and
    the one-step conversation costs fewer round trips."""
    clock = FixedClock(OPEN)
    settings = dataclasses.replace(upload_settings(Settings(), tmp_path / "uploads"), rate_limit_burst=50)
    trips: list[bool] = []
    store = ConversationStore(redis, announce_to=keys.NOTIFY_STAFF, timing=lambda _s, ok: trips.append(ok))
    uploads = build_uploads(settings, redis, clock)
    bot = build_bot(settings, redis, store, clock, nlu, content, uploads)
    shown = ShownCounts(redis, settings.stats_retention, scripts=store.scripts)
    service = ConversationService(
        store, bot, clock, settings, Ending(store, content, clock, settings), shown=shown
    )
    day = OPEN.date().isoformat()

    async def converse(
        conv_id: str, *, at_once: bool
    ) -> tuple[list[tuple[object, ...]], dict[str, str], int]:
        await store.create("h-" + conv_id, conv_id, now_ms=0, retention=3600, locale="sv")
        before, trips_before = await shown.day(day), len(trips)
        state = ConversationState.BOT
        for number, text in enumerate(ONE_CONVERSATION):
            received = await service.receive(conv_id, "sv", text, f"m{number}", state if at_once else None)
            state = received.state or state
        log = [
            (e.seq, e.role, e.text, e.quick_replies, e.intent, e.answer, e.extra)
            for e in await store.read(conv_id)
        ]
        meta = await store.meta(conv_id)
        after = await shown.day(day)
        counted = {answer: after[answer] - before.get(answer, 0) for answer in after}
        assert counted and all(n >= 0 for n in counted.values())
        kept = {name: meta.get(name, "") for name in ("state", "topic", "case_code_asked", "urgent")}
        return (
            log,
            {**kept, **{f"shown:{a}": str(n) for a, n in counted.items() if n}},
            len(trips) - trips_before,
        )

    two_steps, meta_two, trips_two = await converse("two-steps", at_once=False)
    await redis.zrem(keys.QUEUE, "two-steps")  # so the second child is first in the queue too
    one_step, meta_one, trips_one = await converse("one-step", at_once=True)
    assert one_step == two_steps
    assert meta_one == meta_two
    assert meta_one["state"] == "queued" and meta_one["topic"] and meta_one["urgent"]
    # Every answer without an effect saved its own round trip (the greeting, guidance, hours, ...).
    assert trips_one <= trips_two - 6, (trips_one, trips_two)


async def test_an_answer_worked_out_for_a_state_the_conversation_has_left_is_not_stored(
    make_chat: object, content: ContentLibrary
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    service: ConversationService = make_chat.service  # type: ignore[attr-defined]
    # The socket last saw the bot's state; a counsellor has taken the chat since.
    await chat.store.set_state(chat.conv_id, ConversationState.COUNSELLOR)
    received = await service.receive(chat.conv_id, "sv", "min bild sprids", "m-1", ConversationState.BOT)
    # The bot is silent with a counsellor: the answer worked out for the bot's state never reached the log.
    assert received.replies == [] and received.state is ConversationState.COUNSELLOR
    assert [e.text for e in await chat.store.read(chat.conv_id)] == ["min bild sprids"]
    assert "topic" not in await chat.store.meta(chat.conv_id)
    # A resend of the same message is a duplicate either way: nothing more is stored.
    again = await service.receive(chat.conv_id, "sv", "min bild sprids", "m-1", ConversationState.COUNSELLOR)
    assert again.duplicate and len(await chat.store.read(chat.conv_id)) == 1


async def test_answers_with_effects_are_never_worked_out_before_the_message_is_stored(
    make_chat: object,
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    bot: DialogueBot = chat.bot
    ctx = BotContext(chat.conv_id, "sv", ConversationState.BOT)
    for text in (
        "jag vill inte leva längre",
        "/crisis",
        "/handoff_queued",
        "/ask_human",
        "/transcript_consent_yes",
    ):
        plan = await bot.plan(ctx, text)
        assert plan.at_once is None and plan.then is not None, text
    # Nothing happened to the conversation: no queue, no urgent mark, no flag.
    meta = await chat.store.meta(chat.conv_id)
    assert meta["state"] == "bot" and "urgent" not in meta and "transcript_consent" not in meta
    plan = await bot.plan(ctx, "hej")
    assert plan.at_once is not None and plan.then is None


async def test_a_fault_while_planning_never_costs_the_childs_message(
    make_chat: object,
    content: ContentLibrary,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = await make_chat()  # type: ignore[operator]
    service: ConversationService = make_chat.service  # type: ignore[attr-defined]

    async def broken(ctx: BotContext, text: str) -> object:
        raise RuntimeError("a fault in the bot")

    monkeypatch.setattr(chat.bot, "plan", broken)
    received = await service.receive(chat.conv_id, "sv", "min bild sprids", "m-1", ConversationState.BOT)
    # Stored first, then answered as without a plan.
    log = await chat.store.read(chat.conv_id)
    assert log[0].text == "min bild sprids"
    assert [e.text for e in received.replies] == [e.text for e in log[1:]] and received.replies
    assert "planning an answer failed (RuntimeError) in conversation" in caplog.text
    assert "min bild sprids" not in caplog.text
