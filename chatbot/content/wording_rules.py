"""What a sentence means for guidelines 1–3 (blame, personal data, promises), read from its normalised words.

Each pattern names a meaning ("we say we will remove it", "asks the child's age"), matches it in any word
order the language allows (statement, inversion, question), and carries the plain-words reason an editor
reads. `unless` is the negation or hedge that really takes the meaning away ("vi kan *inte lova*", "we'll
*try*"); `soften` marks a reading the gate is unsure of, which becomes a warning for the reviewer instead of
a violation. Patterns run over chatbot.content.wording's normalised text (lemmas), per clause or per sentence.
The labelled examples that pin every pattern down are content/guidelines/bank/*.yml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from chatbot.content.guidelines.findings import T_
from chatbot.content.wording import LEMMAS, Clause, Sentence, read, split_sentences

BLAME, PROMISE, PERSONAL = "blame", "promise", "personal_data"


@dataclass(frozen=True)
class Pattern:
    rule: str
    regex: str
    reason: str
    unless: str | None = None
    soften: str | None = None
    # "clause": between commas and 'but'; "sentence": across them ("Nästa gång, skicka inte ...").
    scope: str = "clause"
    # True: only when the sentence asks (ends with '?'); False: only in statements.
    question: bool | None = None
    sure: bool = True
    # True: `unless` also reads the whole sentence ("We keep the chat for 30 days, then it's deleted").
    unless_sentence: bool = False


@dataclass(frozen=True)
class Judgement:
    """One reading of a sentence: the rule it breaks, how sure the gate is, why, and the words behind it."""

    rule: str
    sure: bool
    reason: str
    words: str


# --- Swedish -----------------------------------------------------------------------------------------------

SV_WORDS = {
    "WE": r"(?:vi|jag)",
    "IT": r"(?:den|det|de|bilden|bilderna|filmen|filmerna|videon|klippet|fotot|nakenbilden|nakenbilderna|allt|"
    r"materialet|kopiorna|kopian|alla kopior|inlägget|det här|han|hon|hen)",
    "REMOVE": r"(?:ta bort|ta ner|få bort|plocka\w* bort|rader\w*|fixa\w*|stopp\w*|lösa|ordna\w*|se till|göra så att|rensa\w*|"
    r"spärra\w*|stäng\w* (?:av|ner)|plocka\w* ner)",
    "OUTCOME": r"(?:försvinna|ta bort|rader\w*|se|hitta\w*|sprida|dyka upp|få se|få veta|veta|"
    r"kunna (?:se|sprida|hitta|dela|göra)|straff\w*|dömas|döma(?! du| någon)|grip\w*|få reda på|stäng\w* (?:av|ner)|spärra\w*|glömma|åka fast|bli (?:bra|okej|bättre)|lösa sig|"
    r"kunna \w+|ordna\w* sig|gå bra|vara borta|bli borta|vara (?:säker|trygg|över)|ta (?:han|hon|hen|de)|"
    r"stopp\w* (?:han|hon|hen|de)|hända igen)",
    # Words that make a statement uncertain, conditional or an offer: the honest way to speak of outcomes.
    # 'om' hedges as 'if' (a clause follows: "om du vill"), not as 'about' or 'in' ("allt om dig på sidan").
    "HEDGE": r"(?:vilja|önska\w*|kanske|försöka|hoppas|brukar|oftast|ofta|ibland|troligen|förhoppningsvis|(?<!hand )om(?= (?:du|vi|jag|det|den|han|hon|hen|de|någon|ni|man|bilden|filmen|inte|allt) (?!på |i |från |till |och |eller )\w)|ifall|"
    r"hur|inte lova|lova inte|inte garanter\w*|garanter\w* inte|ingen kunna (?:lova|garanter\w*)|inte säker\w*|veta inte|inte alltid|"
    r"chatt\w*|samtal\w*|automatiskt|hjälpa|be|ber|bad|bett)",
    "NEG": r"(?:inte(?! ha (?:något|inget) emot)|aldrig|ej|ingen|inget|inga)",
    "PASTV": r"(?:\w+(?:ade|de|te|dde)|sa|gick|tog|lät|gav|skrev|fick|var|kom|gjorde|såg|drog|bad|låg|"
    r"ta|få|gå|göra|säga|ha|komma|veta|se|skriva|ge|hända)",
    "NUM": r"(?:\d+|tio|elva|tolv|tretton|fjorton|femton|sexton|sjutton|arton)",
    "SLOT_SCHOOL": r"(?:skola|skolan|klass|klassen|årskurs|lärare|läraren|rektor\w*|mentor\w*)",
    "SLOT_CONTACT": r"(?:\w*nummer|mobilnummer|mejl\w*|mail\w*|e-post\w*|epost\w*|adress\w*|användarnamn\w*|"
    r"snap\w*|insta\w*|tiktok\w*|discord\w*|kontouppgift\w*|personnummer)",
    "ASK": r"(?:skriva|berätta|säga|ge|skicka|lämna|uppge|ange|fyll\w* i|dela|meddela)",
}

SV: tuple[Pattern, ...] = (
    # Guideline 1: blame, also as a question, a counterfactual, or advice after the fact.
    Pattern(
        BLAME,
        r"\bdu (?:böra|ska|ha kunna|ha behöva|ha få) (?:inte |aldrig )?(?:ha )?(?!behöv|behöva)\w+",
        T_("says what the child should have done: that puts the blame on the child"),
        unless=r"\b(?:behövt|behöva|känna|skämmas|oroa|behöver)\b|\bska du\b|\bdu ska (?!inte ha|aldrig ha|ha)|"
        r"\b(?:inget|ingenting) (?:\w+ )?du (?:böra|ska|kunna)\b",
    ),
    Pattern(
        BLAME,
        r"\bdu kunna (?:ju |väl )?ha \w+|\bdu ha kunna \w+|\bdu kunna (?:inte|aldrig) (?:ha )?\w+",
        T_("says the child could have acted otherwise: that puts the blame on the child"),
        unless=r"\b(?:inte|aldrig|inget|ingenting)\b",
    ),
    Pattern(
        BLAME,
        r"\bvarför {PASTV} (?:du|ni)\b|\bvarför (?:ha|har) du \w+|\bvarför (?:skulle|ska|kunde) du\b",
        T_("asks the child why they did something: even as a question it says they are to blame"),
    ),
    Pattern(
        BLAME,
        r"\bhur kunna du\b|\bvad tänka du\b|\bvad (?:hade|trodde|väntade) du (?:dig|du)?\b|\bhur tänka du\b",
        T_("questions the child's judgement: that blames the child"),
        unless=r"\bvad tänka du om\b",  # asks the child's opinion ("Vad tänker du om det?")
    ),
    Pattern(
        BLAME,
        r"\bnästa gång\b|\bi framtiden\b|\bframöver\b|\bhädanefter\b",
        T_("advice for 'next time' says the child caused it this time: that is blame hidden in advice"),
        # 'nästa gång han skriver': advice about what the other one does next, not about the child's past.
        unless=r"\bnästa gång vi\b|\bnästa gång (?:du|ni) (?:vilja|behöva|känna|undra|ha lust|skriva till vi|prata|kontakta)\b|"
        r"\bnästa gång (?:han|hon|hen|personen)\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bså (?:att )?(?:det )?(?:inte )?(?:hända|gör du) (?:inte |det )?(?:om|igen)\b|\bsamma misstag\b|"
        r"\blära du (?:av|något)\b|\blärdom\w*\b|\bnu veta du (?:att|bättre)\b|\bditt misstag\b|\bett misstag\b",
        T_("says the child must learn a lesson: that makes it their fault"),
        unless=r"\binte (?:ditt|ett) misstag\b|\bingen lärdom\b",
    ),
    Pattern(
        BLAME,
        r"\b(?:det|det där|det här|detta) (?:var|är) (?:\w+ )?(?:dumt|naivt|korkat|slarvigt|oförsiktigt|oklokt|riskabelt|onödigt|godtroget|dumdristigt|omoget|"
        r"inte (?:så |särskilt |speciellt |jätte)?(?:smart|klokt|bra gjort))\b|\bvar inte (?:så |särskilt |speciellt )?(?:smart|klokt)\b|"
        r"\b(?:dumt|naivt|korkat|slarvigt|oförsiktigt|oklokt) (?:av du|gjort)\b|\bdu var (?:(?!inte |aldrig )\w+ )?(?:dum|naiv|korkad|oförsiktig|slarvig)\b",
        T_("judges what the child did: that blames the child"),
    ),
    Pattern(
        BLAME,
        r"\b(?:ditt|ditt eget) (?:fel|ansvar)\b|\bdet var (?:\w+ )?(?:ditt|ditt eget) (?:val|beslut)\b|\bdu ha (?:ett |något )?(?:eget )?ansvar\b|"
        r"\bskylla (?:du )?själv\b|\bdu ha du själv\b|\bdu (?:valde|ville ju|ville själv|gick med på|lät (?:det|han|hon|hen)|"
        r"ta (?:en )?(?:\w+ )?risk|bad om det)\b|\bdu veta (?:väl|ju)\b|\bdu borde veta\b|\bdu böra veta\b",
        T_("puts the responsibility on the child; say that the one who threatens or spreads is responsible"),
        unless=r"\b(?:inte|aldrig|inget|ingen|inga)\b",
    ),
    Pattern(
        BLAME,
        r"\bom du (?:inte |aldrig )?ha (?:inte )?\w+ (?:\w+ )?(?:ha|ska)\b|^ha du (?:inte |aldrig )?\w+ .*\bha (?:det|han|hon|hen|inget|ingen)\b",
        T_("says it would not have happened if the child had acted otherwise: that blames the child"),
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bman (?:ska|böra|få) (?:aldrig|inte) (?:skicka|lita|dela|ta|visa)\b|\bman (?:inte|aldrig) (?:ska|böra|få) (?:skicka|lita|dela|ta|visa)\b|\bskicka aldrig\b",
        T_("a rule about what one must never send reads as blame to a child it already happened to"),
        soften=r".",
    ),
    Pattern(
        BLAME,
        r"\b(?:synd|tråkigt|dumt) att du (?:\w+ ){0,2}(?:{PASTV}|ha \w+)\b|\bdu (?:vara|var|veta|visste) (?:\w+ )?(?:medveten|om risk\w*)\b|"
        r"\b(?:bättre|mer) koll på\b|\b(?:det|detta|det här) ha (?:inte|aldrig) (?:\w+ )?(?:hända|bli \w+) om du\b",
        T_("regrets what the child did, or says they knew or should watch better: that blames the child"),
        unless=r"\binte (?:ditt|ett) fel\b|\bnästa gång (?:vi|han|hon)\b",
        scope="sentence",
    ),
    # Guideline 2: asking who the child is.
    Pattern(
        PERSONAL,
        r"\bvad heta du\b|\bvad du heta\b|\bheta du\b|\b{ASK} (?:\w+ ){0,3}ditt (?:\w+)?namn\b|\bvad heta (?:din|dina|ditt) \w+|"
        r"\bvad (?:vara|är) (?:ditt|dina) (?:\w+ )?namn\b",
        T_("asks for a name: children stay anonymous here, never ask who they (or people near them) are"),
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bhur gammal(?! (?:är |vara |var )?(?:han|hon|hen|de|personen|killen|tjejen|mannen|kvinnan)\b)\b|(?<!\bi )\bdin ålder\b|\bvilket år\b.*\bfödd\b|\bnär (?:är|var) du född\b|\bdu född\b|"
        r"\b(?:är|vara) du {NUM}\b|\b{NUM} eller {NUM}\b|\bdin födelsedag\b|\bfylla du\b|\bdu fylla\b",
        T_("asks the child's age: it helps identify them; never ask it in the chat"),
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bvar (?:\w+ )?bo du\b|\bvar du bo\b|\bbo du (?:i|nära|utanför|i närheten)\b|\b(?:är|bo) du (?:\w+ ){1,3}eller (?:någon annanstans|på annat håll)\b|\bvar (?:\w+ )?komma du (?:ifrån|från)\b|\bvarifrån (?:komma|är) du\b|"
        r"\b(?:vilken|vilket|i vilken|i vilket) (?:stad|ort|kommun|stadsdel|land|län|område|by|gata|del av)\b|"
        r"\bdin (?:adress|hemadress|gata|postadress)\b|\bvar (?:\w+ )?(?:ligger|är) ditt hem\b",
        T_("asks where the child lives or comes from: that identifies them"),
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:vilken|vilket|din|vad heta din|i vilken) {SLOT_SCHOOL}\b|\bgå du i (?:\w+an|klass|årskurs|{NUM})\b|"
        r"\bvar gå du i skola\w*\b|\bgå du på\b|\bvad heta skolan\b|\bgå du i (?:\w+ )?eller\b",
        T_("asks about the child's school or class: that identifies them"),
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b{ASK} (?:\w+ ){0,3}(?:ditt|din|dina) {SLOT_CONTACT}\b|\b(?:vad|vilket|vilken) (?:\w+ )?(?:ditt|din|dina) {SLOT_CONTACT}\b|"
        r"\bhur (?:kunna |ska )?(?:vi nå|nå vi) du\b|\bvad ha du för (?:\w+ )?{SLOT_CONTACT}|\b(?:vilket|vilken|vad) (?:\w+ )?{SLOT_CONTACT} ha du\b|\bnå du (?:senare|sedan|igen|på)\b|\b(?:lämna|ge|skicka) (?:vi )?(?:en |ett |din |ditt )?(?:mejladress|e-postadress|\w*nummer|adress)\b|\bskola\w* (?:som )?du gå (?:på|i)\b|"
        r"\b(?:ringa|ring\w*) (?:du|upp)\b|\bkontakta du\b|\bhöra av vi till du\b|\bhöra av vi\b",
        T_(
            "asks for contact details: we never contact a child outside the chat, and never ask for a number or address"
        ),
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:ditt|din|dina) (?:\w+)?(?:namn|{SLOT_CONTACT}|skola|klass|ålder|adress)\b",
        T_("mentions the child's name, school or contact details: check that it does not ask for them"),
        unless=r"\b{NEG}\b|\bbehöva inte\b|\bi din ålder\b",
        scope="sentence",
        sure=False,
    ),
    Pattern(
        PERSONAL,
        r"\bvad heta (?:din|dina|ditt) (?:föräldrar|mamma|pappa|syskon|kompis\w*|vän\w*)\b|\b(?:dina|din) (?:föräldrar|mamma|pappa)s? namn\b",
        T_("asks who the child's family or friends are: that identifies the child"),
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:skicka|dela|visa|ladda upp|ta|ge)\w* (?:\w+ ){0,3}(?:bild|foto|selfie|video|film)\w* (?:på|av) du(?: själv)?\b|"
        r"\b(?:skicka|dela|visa|ta)\w* (?:\w+ ){0,2}selfie\w*|\b(?:dela|skicka|visa|slå på)\w* (?:\w+ ){0,2}(?:din|ditt) (?:plats|position|platsinfo)\b|"
        r"\b(?:vad|vilket|ha du|din|ditt) (?:\w+ )?personnummer\b|\bvar du (?:är|befinna dig) (?:just )?nu\b",
        T_("asks for the child's picture, whereabouts or identity number: that identifies them"),
        # Someone else sharing pictures of the child is what the line helps with, not a question to the child.
        unless=r"\b{NEG}\b|\bbehöva inte\b|\b(?:han|hon|hen|de|någon|personen|andra|folk|som)\b|\bsprida\b|\bta bort\b|\bfå bort\b",
        scope="sentence",
    ),
    # Guideline 3: promises of an outcome we cannot guarantee.
    Pattern(
        PROMISE,
        r"\b{WE} (?:(?:ska|komma|att|nog|snabbt|direkt|genast|alltid|själva|helt|sedan|också|gärna|kunna|då) )*{REMOVE}",
        T_("says we will remove or fix it: we can only try; write 'vi försöker få bort den'"),
        # "Vi kan inte ta bort den" is honest; "Vi ordnar så att den inte finns kvar" still promises.
        unless=r"\b{HEDGE}\b|\b{WE} (?:\w+ ){0,2}{NEG}\b|\b{NEG} (?:\w+ )?{WE}\b",
        soften=r"\bkunna\b",
    ),
    Pattern(
        PROMISE,
        r"\b{IT} (?:\w+ )?(?:ta|få|plocka|rader\w*|fixa\w*|stopp\w*|lösa|ordna\w*|sköta\w*) (?:\w+ )?{WE}\b",
        T_("says we will remove or fix it: we can only try; write 'vi försöker få bort den'"),
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:komma|ska) (?:(?:inte|aldrig|att) )*(?:att )?{OUTCOME}\b",
        T_("says for certain what will happen to the picture or the person: nobody can promise that"),
        unless=r"\b{HEDGE}\b|\bkomma (?:inte |aldrig )?(?:att )?(?:försvinna|bli bra|ta bort)\b(?=.*\b(?:inte|aldrig)\b)",
    ),
    Pattern(
        PROMISE,
        r"\b(?:är|blir|bli|vara) {IT} (?:\w+ )?(?:borta|över|slut|glömd|glömt|glömda)\b(?! \d| hela)|"
        r"\b{IT} (?:är|blir|bli|vara) (?:\w+ )?(?:borta|över|slut|glömd|glömt|glömda)\b(?! \d| hela)|"
        r"\bborta för (?:gott|alltid)\b|\bför (?:gott|alltid) borta\b",
        T_("says it is over or gone: nobody can promise that; say what we do and what may happen"),
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\bingen (?:\w+ )?(?:\w+ )?(?:komma|ska) (?:att )?(?:få )?(?:se|veta|hitta|sprida|känna igen)\b|"
        r"\b(?:se|sprida|dyka upp|hitta\w*|hända|visa\w*|lägg\w* upp) (?:inte|aldrig) (?:\w+ )?(?:mer|längre|igen|vidare)\b|"
        r"\b(?:dyka|komma|poppa|lägg\w*) (?:inte|aldrig) upp\b",
        T_("promises that nobody will see it or that it stops: nobody can promise that"),
        unless=r"\b{HEDGE}\b",
        soften=r"\bkunna\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:lova|garanter\w*|försäkra)\b|\b100 ?%|\bhundra procent\b|\b(?:jag|vi|du) (?:kunna )?(?:är|vara) (?:\w+ )?säk(?:er|ra) på att\b|\bdu kunna lita på att\b|"
        r"\bdet (?:är|blir) (?:helt )?säkert\b(?! att (?:skicka|berätta|prata))|\bdefinitivt\b|\bmed säkerhet\b|\bgaranterat\b",
        T_("gives a guarantee: we cannot guarantee outcomes; say what we will try"),
        unless=r"\b{NEG} (?:\w+ ){0,2}(?:lova|garanter\w*|försäkra|säk(?:er|ra|ert))\b|\b(?:lova|garanter\w*|försäkra) (?:\w+ )?(?:inte|aldrig)\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:allt|det|det här) (?:\w+ )?(?:bli|ordna\w* sig|lösa sig|gå bra|gå över)\b(?: \w+)? ?(?:bra|okej|sig|över|fint)?\b"
        r"(?<=bra|kej|sig|ver|int)|\bdu (?:är|bli|vara) (?:\w+ )?(?:säker|trygg)\b(?! på)|\b(?:är|bli|vara) du (?:\w+ )?(?:säker|trygg)\b(?! på)",
        T_("reassures with an outcome nobody can promise ('det blir bra', 'du är säker nu')"),
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
        question=False,
    ),
    Pattern(
        PROMISE,
        r"\b{IT} (?:\w+ )?(?:rader\w*s|ta bort|ta ner|försvinna|plocka\w* bort|stäng\w* (?:av|ner))\b|"
        r"\b(?:sidan|appen|plattformen|polisen|de|snapchat|instagram|tiktok|discord|google) (?:\w+ )?(?:ta bort|ta ner|rader\w*|stäng\w* (?:av|ner)|blockera\w*|spärra\w*)\b",
        T_(
            "states as a fact that it is removed: that is an outcome nobody can promise; say what we or they will try"
        ),
        # The child removing it, or what happens when the child ends the chat, is no promise of ours.
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\bdu (?:\w+ ){0,2}(?:ta|rader\w*|plocka\w*)\b|\bnär du (?:\w+ )?(?:avsluta|stäng|lämna|gå|stänga|trycka)\w*",
        soften=r".",
    ),
    Pattern(
        BLAME,
        r"\bvar (?:mer |lite )?(?:försiktig\w*|vaksam\w*)\b",
        T_("tells the child to be more careful: after something happened, that reads as blame"),
        soften=r".",
    ),
    Pattern(
        PROMISE,
        r"\b(?:måste|ska|tvingas) (?:\w+ )?(?:ta bort|ta ner|radera\w*)\b",
        T_("states that someone will have to remove it: that is a certainty we do not have"),
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\bdu\b",
        soften=r".",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:är|vara) du (?:över|under|äldre än|yngre än) {NUM}\b",
        T_("asks the child's age: it helps identify them; never ask it in the chat"),
        # Only as a question: "Är du under 18 kan dina föräldrar få veta" is a condition, not a question.
        question=True,
    ),
    Pattern(
        BLAME,
        r"\bdu (?:\w+ ){0,2}(?:var|är|vara|verka) (?:\w+ ){0,2}(?:dum|naiv|godtrogen|blåögd|lättlurad|oförsiktig|slarvig|"
        r"korkad|dumdristig|ansvarslös|omogen)\b",
        T_("calls the child naive or careless: that blames the child"),
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        BLAME,
        r"\bdet ha (?:\w+ )?varit (?:\w+ )?(?:klokare|smartare|bättre|säkrare|klokt|smart) (?:att|om du)\b|"
        r"\bdu ha (?:\w+ )?(?:själv )?(?:chansen|möjligheten|valet|ett val) att\b|\bdu göra det (?:\w+ )?(?:lätt|enkelt|lättare)\b",
        T_("says the child could have done better or made it easy: that blames the child"),
        unless=r"\bha (?:inte|aldrig) varit\b|\bdu ha (?:inte|aldrig|inget|ingen)\b|\bdu göra (?:inte|aldrig)\b",
        scope="sentence",
    ),
    Pattern(
        PROMISE,
        r"\b(?:komma|ska) (?:inte|aldrig) (?:att )?(?:finnas|ligga|vara) kvar\b|\b(?:alla|folk|andra|man) (?:\w+ ){0,3}glömma\b",
        T_("says for certain that it will be gone or forgotten: nobody can promise that"),
        unless=r"\b{HEDGE}\b",
        question=False,
    ),
    Pattern(
        BLAME,
        r"\b(?:dåligt|dumt|ogenomtänkt|oklokt|naivt|farligt|slarvigt) (?:beslut|val|drag|gjort)\b|"
        r"\b(?:var|är|vara) (?:\w+ ){0,2}(?:dumt|naivt|korkat|slarvigt|oförsiktigt|oklokt|ogenomtänkt|dumdristigt)\b|"
        r"\bdu (?:måste|behöva|böra|ska) lära du\b|\bvad få du att tro\b|\bfå (?:ju |väl )?vad du bad om\b|"
        r"\bdu gå (?:\w+ )?för långt\b|\bdu (?:\w+ )?(?:provocera|uppmuntra|reta|locka|bjuda in)\w*\b",
        T_("judges what the child did or says they invited it: that blames the child"),
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:han|hon|hen|de) (?:\w+ )?(?:sluta|slutar) (?:att )?(?:hota|skriva|kontakta|höra av|sprida|tjata)\w*|"
        r"\b(?:inga|inget|ingen) (?:\w+ )?(?:spår|kopior|kopia|bilder|filmer) (?:\w+ )?kvar\b|\bfå (?:sitt|det han|vad han) (?:straff|förtjäna)\w*",
        T_("says for certain what he will do or what will be left: nobody can promise that"),
        unless=r"\b{HEDGE}\b",
        question=False,
    ),
    Pattern(
        PERSONAL,
        r"\bvad kalla\w* (?:\w+ ){0,2}du\b|\b(?:är|vara) du i (?:\w+an|klass|årskurs|\w+ klass)\b|"
        r"\bnamn\w* på (?:din |ditt )?(?:skola\w*|klass\w*|lärare\w*|stad\w*|ort\w*|kompis\w*)\b",
        T_("asks who the child is or which school or class: that identifies them"),
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bvara det (?:\w+ )?nödvändigt att\b|\bbehöva du (?:\w+ )?verkligen\b|\bhur komma det sig att du\b|"
        r"\b(?:sånt|sådant|det) (?:här )?hända när (?:man|du)\b|\bdu (?:\w+ ){0,2}(?:bidra\w*|orsaka\w*)\b|"
        r"\b(?:lite )?mer (?:eftertanke|försiktighet|omdöme)\b",
        T_("questions the child's choice or says they caused it: that blames the child"),
        unless=r"\b{NEG}\b",
        scope="sentence",
    ),
    Pattern(
        PROMISE,
        r"\bminne blott\b|\bligga bakom du\b|\baldrig (?:mer )?(?:behöva )?oroa du\b(?=.*\b(?:igen|mer)\b)|"
        r"\b(?:försvinna|raderas|tas bort) (?:\w+ )?(?:bilden|bilderna|filmen|filmerna|videon|klippet|fotot)\b",
        T_("says for certain that it will be over or gone: nobody can promise that"),
        unless=r"\b{HEDGE}\b|\bnär du (?:\w+ )?(?:avsluta|stäng|lämna|gå|trycka)\w*",
        question=False,
        scope="sentence",
    ),
)

# --- English -----------------------------------------------------------------------------------------------

EN_WORDS = {
    "WE": r"(?:we|i)",
    "IT": r"(?:it|they|the (?:picture|pictures|photo|photos|video|videos|image|images|nude|nudes|post|copies)|"
    r"every copy|all (?:the )?copies|everything|he|she|this)",
    "REMOVE": r"(?:delete|remove|take (?:\w+ ){0,2}down|get rid of|get (?:\w+ ){0,3}(?:removed|down|deleted|taken down)|"
    r"take (?:\w+ )?off|shut (?:\w+ )?down|close (?:\w+ )?down|fix|stop|sort (?:it |this |that )?out|make sure|ensure|erase|wipe|handle it|deal with it|block)",
    "HEDGE": r"(?:want|wish|how|try|maybe|might|may|hope|hopefully|usually|often|sometimes|probably|if|whether|"
    r"can not promise|not promise|can not guarantee|not guarantee|nobody can (?:promise|guarantee)|not sure|do not know|not always|"
    r"chat|conversation|automatically|help|ask)",
    "NEG": r"(?:not(?! mind)|never|no|nobody|nothing|none)",
    "NUM": r"(?:\d+|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen)",
    "SLOT_CONTACT": r"(?:phone number|number|mobile number|email|e-mail|address|username|user name|snapchat|snap|instagram|"
    r"insta|tiktok|discord|handle|contact details)",
}

EN: tuple[Pattern, ...] = (
    Pattern(
        BLAME,
        r"\b(?:a shame|a pity|too bad|unfortunate) (?:that )?you (?:did not|did|had|never|were|went|sent|let)\b|"
        r"\byou (?:were|are|must have been) (?:\w+ )?aware\b|\byou knew (?:about )?the risks?\b|\bkeep a (?:better|closer) eye\b",
        T_("regrets what the child did, or says they knew or should watch better: that blames the child"),
        unless=r"\bnot your fault\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:send|share|give|show|upload|post|take)\w* (?:\w+ ){0,3}(?:photo|picture|pic|selfie|video|image)s? (?:of|showing) (?:yourself|you)\b|"
        r"\b(?:send|share|take)\w* (?:\w+ ){0,2}selfie|\b(?:share|send|turn on|give)\w* (?:\w+ ){0,2}your (?:location|whereabouts)\b|"
        r"\bwhat is your (?:location|whereabouts)\b|\byour (?:identity number|id number|personal number|social security number)\b|"
        r"\b(?:personal identity|social security|id) number\b|\bwhere you are (?:right )?now\b",
        T_("asks for the child's picture, whereabouts or identity number: that identifies them"),
        # Someone else sharing pictures of the child is what the line helps with, not a question to the child.
        unless=r"\b{NEG}\b|\b(?:he|she|they|someone|somebody|anyone|who|people|others)\b|\bspread\w*|\bremov\w*|\bdelet\w*|\btake \w+ down\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\byou (?:should|ought to|could|might|would|need to) (?:not |never )?(?:really )?have (?!had to)\w+|"
        r"\byou (?:should|ought to) (?:\w+ )?know better\b",
        T_("says what the child should or could have done: that puts the blame on the child"),
        unless=r"\bcould not have\b|\bcould never have\b|\bhave had to\b|\bnothing (?:\w+ )?you (?:should|could|ought)\b",
    ),
    Pattern(
        BLAME,
        r"\bwhy (?:did|do|would|were|was|have|had) (?:not )?you\b|\bwhy (?:did|do|would|were|was|have|had) you not\b|"
        r"\bhow could you\b|\bwhat were you think\b|\bwhat do you expect\b",
        T_("asks the child why they did something: even as a question it says they are to blame"),
    ),
    Pattern(
        BLAME,
        r"\bnext time\b|\bin (?:the )?future\b|\bfrom now on\b",
        T_("advice for 'next time' says the child caused it this time: that is blame hidden in advice"),
        unless=r"\bnext time we\b|\bnext time (?:you )?(?:want|need|feel|have|wonder|would like|are)\b|"
        r"\bnext time (?:he|she)\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bsame mistake\b|\b(?:a|your) mistake\b|\blearn (?:from|your lesson|a lesson)\b|\blesson\b|"
        r"\bso (?:that )?(?:it|this) (?:does|will) not happen again\b|\bso it never happens again\b",
        T_("says the child must learn a lesson: that makes it their fault"),
        unless=r"\bnot (?:a|your) mistake\b|\bno mistake\b",
    ),
    Pattern(
        BLAME,
        r"\b(?:it|that|this) (?:was|is) (?:(?!not |never )\w+ )?(?:a )?(?:\w+ )?(?:stupid|naive|silly|careless|reckless|dumb|unwise|foolish|risky)\b|"
        r"\b(?:it|that|this) (?:was|is) not (?:a )?(?:very |so |particularly |really )?(?:smart|wise|clever|good idea|sensible)\b|"
        r"\byou were (?:(?!not |never )\w+ )?(?:stupid|naive|silly|careless|reckless|foolish)\b|\b(?:was|were) not (?:a )?(?:very |so |particularly |really )?(?:smart|wise|clever|sensible)\b",
        T_("judges what the child did: that blames the child"),
    ),
    Pattern(
        BLAME,
        r"\byour (?:own )?(?:fault|responsibility)\b|\b(?:it|that) was (?:\w+ )?your (?:own )?(?:choice|decision)\b|\byou are (?:\w+ )?responsible\b|"
        r"\bbrought (?:this|it) on yourself\b|\byourself to blame\b|\basked for it\b(?! to)|\byou (?:let (?:it|him|her|them)|chose to|decided to|agree to|"
        r"went along|take (?:a|that|such a) (?:\w+ )?risk|knew (?:better|you|that|it))\b",
        T_("puts the responsibility on the child; say that the one who threatens or spreads is responsible"),
        unless=r"\b(?:not|never|no|nothing|none|nobody)\b",
    ),
    Pattern(
        BLAME,
        r"\bif you had (?:not |never )?\w+|\bif you would (?:not |never )?(?:\w+ed|been|done|said|told|sent|gone|known|thought|taken|kept|shown|given|had)\b",
        T_("says it would not have happened if the child had acted otherwise: that blames the child"),
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\byou should (?:never|not) (?:send|share|trust|take|show)\b|\bnever send (?:nudes|pictures|photos|anything)\b",
        T_("a rule about what one must never send reads as blame to a child it already happened to"),
        soften=r"^(?!you)",
    ),
    Pattern(
        PERSONAL,
        r"\bwhat is your (?:[\w']+ )?name\b|\b(?:write|type|tell|give|send|leave|share|enter) (?:\w+ ){0,3}your (?:\w+ )?name\b|\bwhat (?:are|do) (?:you|they) call(?:ed)?\b|"
        r"\bwhat are your (?:\w+ )?names\b|\bwhat is your [\w']+ call(?:ed)?\b|\b(?:parents|mom|dad|teacher|friend|friends)'?s? names?\b|"
        r"\bwho are your (?:parents|friends)\b",
        T_("asks for a name: children stay anonymous here, never ask who they (or people near them) are"),
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bhow old(?! (?:is |was )?(?:he|she|they|the (?:person|guy|man|woman|boy|girl))\b)\b|\bwhen (?:do|will) you turn\b|(?<!people )(?<!kids )(?<!children )(?<!others )(?<!someone )(?<!at )\byour age\b|\bwhen were you born\b|\bwhat year (?:\w+ )?born\b|\byou born\b|"
        r"\bare you {NUM}\b|"
        r"\b{NUM} or {NUM}\b|\byour (?:birthday|date of birth)\b",
        T_("asks the child's age: it helps identify them; never ask it in the chat"),
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bwhere (?:do|did) you live\b|\bwhere you live\b|\bdo you live (?:in|near|close to|around|outside)\b|"
        r"\b(?:are you|do you live) (?:\w+ ){1,3}or (?:somewhere|anywhere) else\b|\bwhere (?:are|do) you (?:\w+ )?from\b|"
        r"\b(?:which|what) (?:city|town|village|area|country|neighbou?rhood|street|part of|county|municipality|suburb)\b|"
        r"\byour (?:address|home address|postcode|zip code|street)\b|\b(?:city|town) (?:do )?you (?:live|are from|come from)\b",
        T_("asks where the child lives or comes from: that identifies them"),
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:which|what|your) (?:\w+ )?(?:school|class|grade|year group|form|teacher|year are you)\b|\bwhere do you go to school\b|"
        r"\bare you (?:still )?(?:in|at) (?:\w+ ){0,2}(?:grade|year|class|school|form)\b|\b(?:middle|high|primary|secondary|elementary|junior) school or\b|\b(?:\w+th|\d+th|first|second|third) or (?:\w+th|\d+th) (?:grade|year)\b|"
        r"\bwhat grade\b|\bgo to school\b",
        T_("asks about the child's school or class: that identifies them"),
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:write|type|tell|give|send|leave|share|enter|fill in|let we know|what is|what are) (?:\w+ ){0,3}your (?:\w+ )?{SLOT_CONTACT}\b|"
        r"\bhow (?:can|could|do|should) we (?:reach|contact|call|find|get hold of) you\b|"
        r"\b(?:call|ring|text|email|contact) you\b|\bget back to you\b|\breach you\b|"
        r"\b(?:leave|give|send) (?:we )?(?:an? |your )?(?:email address|e-mail address|phone number|number|address)\b|\bschool you (?:go to|attend|are at)\b",
        T_(
            "asks for contact details: we never contact a child outside the chat, and never ask for a number or address"
        ),
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\byour (?:\w+ )?(?:name|{SLOT_CONTACT}|school|class|age|address)\b",
        T_("mentions the child's name, school or contact details: check that it does not ask for them"),
        unless=r"\b{NEG}\b|\bdo not have to\b|\b(?:people|kids|children|others|someone|at) your age\b",
        scope="sentence",
        sure=False,
    ),
    Pattern(
        PROMISE,
        r"\b{WE} (?:(?:will|shall|are going to|am going to|going to|can|could|just|quickly|then|also|always|definitely|"
        r"right away|personally|now|really|make sure to) )*{REMOVE}\b",
        T_("says we will remove or fix it: we can only try; write 'we'll try to get it removed'"),
        # "We can't delete it" is honest; "We'll make sure nobody sees it" still promises.
        unless=r"\b{HEDGE}\b|\b{WE} (?:\w+ ){0,2}{NEG}\b|\b{NEG} (?:\w+ )?{WE}\b",
        soften=r"\b(?:can|could)\b",
    ),
    Pattern(
        PROMISE,
        r"\bwill (?:(?:not|never|all|soon|quickly|definitely|be able to|ever) )*(?:be )?(?:removed|deleted|gone|taken down|"
        r"disappear|show up|turn up|come back|pop up|spread|share|shared|posted|post|(?<=be )seen|get caught|get punished|get arrested|"
        r"(?:catch|arrest|stop|punish|find) (?:he|she|they)|punish\w*|arrested|"
        r"caught|catch|stopped|stop|fine|ok|okay|alright|all right|safe|over|work out|sorted|happen again|able to|"
        r"(?:have )?forgotten|forget|blow over|go away)\b|"
        r"\b(?:is|are|am) (?:all )?going to (?:(?:not|never|all|be) )*(?:removed|deleted|gone|taken down|disappear|show up|spread|see|find out|"
        r"punish\w*|arrested|caught|fine|ok|okay|alright|all right|safe|over|work out|happen again|forget|go away|"
        r"(?:catch|arrest|stop|punish|find) (?:he|she|they))\b",
        T_("says for certain what will happen to the picture or the person: nobody can promise that"),
        unless=r"\b{HEDGE}\b|\bwill not (?:be )?(?:removed|deleted|gone|disappear|fine|ok|okay|safe)\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:it|they|that|this|everything|the \w+) (?:is|are|will be) (?:\w+ )?(?:gone|over|finished|deleted|removed|forgotten)\b(?! \d| the)|"
        r"\bgone for (?:good|ever)\b|\bforever gone\b|\bthe end of it\b|\b(?:it|they) (?:is|are) not coming back\b",
        T_("says it is over or gone: nobody can promise that; say what we do and what may happen"),
        unless=r"\b{HEDGE}\b|\bnot (?:gone|over)\b",
        unless_sentence=True,
    ),
    Pattern(
        PROMISE,
        r"\bnobody (?:\w+ )?(?:\w+ )?(?:will|is going to|shall) (?:ever )?(?:see|find|know|spread|recogni[sz]e)\b|"
        r"\b(?:see|spread|show up|share|post)\w* (?:it )?(?:not|never) (?:\w+ )?(?:again|any ?more|any further|any longer)\b",
        T_("promises that nobody will see it or that it stops: nobody can promise that"),
        unless=r"\b{HEDGE}\b",
        soften=r"\b(?:can|could)\b",
    ),
    Pattern(
        PROMISE,
        r"\bpromise\b|\bguarantee\w*|\b100 ?%|\bhundred percent\b|\b(?:i|we) am (?:\w+ )?(?:sure|certain|positive)\b|"
        r"\b(?:i|we) are (?:\w+ )?(?:sure|certain|positive)\b|\bfor sure\b|\bdefinitely\b|\bour word\b|\bmy word\b|\bi swear\b|"
        r"\brest assured\b|\byou can (?:\w+ )?(?:be sure|be certain|count on it|rely on it)\b",
        T_("gives a guarantee: we cannot guarantee outcomes; say what we will try"),
        # "We can't promise" is honest; "I promise nobody will see it" still guarantees.
        unless=r"\b{NEG} (?:\w+ ){0,2}(?:promise|guarantee\w*|sure|certain)\b|\b(?:promise|guarantee\w*) (?:\w+ )?(?:not|never)\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:everything|it|things|all) (?:\w+ )?(?:will|is going to|are going to) (?:all )?(?:be )?(?:fine|ok|okay|alright|all right|"
        r"work out|get sorted|sort itself out)\b|\byou (?:will|are going to) be (?:\w+ )?(?:safe|fine|ok|okay)\b|"
        r"\byou are (?:\w+ )?safe now\b|\bit will all work out\b",
        T_("reassures with an outcome nobody can promise ('it'll be fine', 'you're safe now')"),
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
        question=False,
    ),
    Pattern(
        PROMISE,
        r"\b{IT} (?:\w+ )?(?:gets? (?:deleted|removed|taken down)|is (?:deleted|removed|taken down)|disappears|removes|deletes|takes (?:\w+ )?down)\b|"
        r"\b(?:the site|the app|the platform|the police|they|snapchat|instagram|tiktok|discord|google) (?:\w+ )?(?:removes?|deletes?|takes? (?:\w+ ){0,2}down|shuts? (?:\w+ ){0,2}down|gets? (?:blocked|removed|deleted|taken down|shut down))\b",
        T_(
            "states as a fact that it is removed: that is an outcome nobody can promise; say what we or they will try"
        ),
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\byou (?:\w+ ){0,2}(?:remove|delete|take)\w*|\bwhen you (?:\w+ )?(?:end|close|leave|quit|press|exit)\w*",
        unless_sentence=True,
        soften=r".",
    ),
    Pattern(
        BLAME,
        r"\bbe (?:more |a bit more )?(?:careful|cautious)\b",
        T_("tells the child to be more careful: after something happened, that reads as blame"),
        soften=r".",
    ),
    Pattern(
        PROMISE,
        r"\b(?:has to|have to|must|will have to|are required to) (?:\w+ )?(?:remove|delete|take (?:it |them )?down)\b",
        T_("states that someone will have to remove it: that is a certainty we do not have"),
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\byou\b",
        soften=r".",
    ),
    Pattern(
        PERSONAL,
        r"\bare you (?:over|under|older than|younger than) {NUM}\b",
        T_("asks the child's age: it helps identify them; never ask it in the chat"),
        question=True,
    ),
    Pattern(
        BLAME,
        r"\b(?:this|that|it|part of (?:this|it|that)|some of (?:this|it|that)) (?:is|was) (?:\w+ )?on you\b|"
        r"\byou know (?:\w+ ){0,4}(?:not supposed to|should not|should never|better)\b|\byou make it (?:\w+ )?(?:easy|easier)\b|"
        r"\byou (?:\w+ )?had (?:the |a |every )?(?:chance|opportunity|choice) to\b|"
        r"\bwould have been (?:\w+ )?(?:wiser|smarter|better|safer|sensible|a good idea) (?:to|if you|not to)\b",
        T_("says the child could have done better or brought it on: that blames the child"),
        unless=r"\b(?:is|was) not (?:\w+ )?on you\b|\byou make it not\b|\bwould not have been\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\byou (?:\w+ ){0,2}(?:were|are|seem|seemed) (?:\w+ ){0,2}(?:naive|gullible|careless|reckless|stupid|foolish|silly|"
        r"irresponsible|too trusting)\b",
        T_("calls the child naive or careless: that blames the child"),
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        BLAME,
        r"\b(?:bad|poor|stupid|foolish|unwise|careless|silly|reckless|dumb) (?:decision|choice|move|call)\b|"
        r"\b(?:was|is|were) (?:\w+ ){0,2}(?:stupid|naive|silly|careless|reckless|dumb|unwise|foolish|irresponsible)\b|"
        r"\byou (?:need|have|ought|must|should) (?:to )?learn\b|\bwhat (?:made|possessed) you\b|\bwhat you ask(?:ed)? for\b|"
        r"\byou (?:\w+ )?(?:went|go|going) too far\b|\byou (?:\w+ )?(?:provoked|encouraged|invited|egged|led (?:he|she) on)\b",
        T_("judges what the child did or says they invited it: that blames the child"),
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\bno (?:\w+ )?(?:trace|copies|copy|pictures|videos) (?:\w+ )?left\b|\bget what (?:he|she|they) deserve\w*",
        T_("says for certain what will be left or what he will get: nobody can promise that"),
        unless=r"\b{HEDGE}\b",
        question=False,
    ),
    Pattern(
        BLAME,
        r"\bdid you (?:really |actually )?(?:need|have) to\b|\bhow come you\b|\b(?:this|that|it) is what happens when you\b|"
        r"\byou (?:\w+ ){0,2}(?:contributed|played a part|caused)\b|\b(?:a bit |a little )?more (?:thought|care|caution|sense) would have\b|"
        r"\bnow you know (?:not to|better|that you)\b|\byou do (?:\w+ )?wrong\b",
        T_("questions the child's choice or says they caused it: that blames the child"),
        unless=r"\b{NEG}\b",
        scope="sentence",
    ),
    Pattern(
        PROMISE,
        r"\bwill (?:all )?be (?:\w+ )?(?:a )?(?:distant )?memory\b|\bwill (?:all )?be behind you\b",
        T_("says for certain that it will be over: nobody can promise that"),
        unless=r"\b{HEDGE}\b",
        question=False,
    ),
)

PATTERNS: Mapping[str, tuple[Pattern, ...]] = {"sv": SV, "en": EN}
WORDS: Mapping[str, Mapping[str, str]] = {"sv": SV_WORDS, "en": EN_WORDS}


def _expand(regex: str, words: Mapping[str, str]) -> str:
    return re.sub(r"\{([A-Z_]+)\}", lambda m: words[m.group(1)], regex)


# A word of a pattern, not an escape like \b or \w, nor part of a longer word.
_PATTERN_WORD = re.compile(r"(?<![\\\w])[a-zåäöé']+(?!\w)")


def _lemmatised(regex: str, language: str) -> str:
    """The pattern with its words in the form the text is read in: patterns run over lemmas, so a pattern
    written with 'kunde', 'gjort' or 'did' would otherwise never match ("varför kunde du" is read as
    "varför kunna du")."""
    lemmas = LEMMAS.get(language, {})
    return _PATTERN_WORD.sub(lambda m: lemmas.get(m.group(0), m.group(0)), regex)


@dataclass(frozen=True)
class _Compiled:
    pattern: Pattern
    regex: re.Pattern[str]
    unless: re.Pattern[str] | None
    soften: re.Pattern[str] | None


@cache
def _compiled(language: str) -> tuple[_Compiled, ...]:
    words = WORDS[language]

    def compile_(regex: str) -> re.Pattern[str]:
        return re.compile(_lemmatised(_expand(regex, words), language))

    return tuple(
        _Compiled(
            p,
            compile_(p.regex),
            compile_(p.unless) if p.unless is not None else None,
            compile_(p.soften) if p.soften is not None else None,
        )
        for p in PATTERNS[language]
    )


def languages() -> Sequence[str]:
    return tuple(PATTERNS)


def judge(text: str, language: str) -> list[Judgement]:
    """Every rule one bubble (one or more sentences) breaks, at most one judgement per rule and sentence;
    a sure reading wins over an unsure one."""
    if language not in PATTERNS:
        return []
    return [j for source in split_sentences(text) for j in _judge_sentence(source, language)]


@lru_cache(maxsize=8192)
def _judge_sentence(source: str, language: str) -> tuple[Judgement, ...]:
    found: list[Judgement] = []
    sentence = read(source, language)
    best: dict[str, Judgement] = {}
    for compiled in _compiled(language):
        hit = _match(compiled, sentence)
        if hit is None:
            continue
        current = best.get(compiled.pattern.rule)
        if current is None or (hit.sure and not current.sure):
            best[compiled.pattern.rule] = hit
    found += best.values()
    return tuple(found)


@lru_cache(maxsize=8192)
def negated(source: str, language: str) -> frozenset[str]:
    """The rules whose meaning a pattern found in `source` and then saw taken away by a negation or a hedge
    ("vi frågar *aldrig* var du bor", "we *can't promise*"): the gate understood the sentence, so its
    classifier does not second-guess it."""
    if language not in PATTERNS:
        return frozenset()
    sentence = read(source, language)
    found = set()
    for compiled in _compiled(language):
        clauses = (sentence.whole,) if compiled.pattern.scope == "sentence" else sentence.clauses
        for clause in clauses:
            if compiled.regex.search(clause.text) and compiled.unless and compiled.unless.search(clause.text):
                found.add(compiled.pattern.rule)
    return frozenset(found)


def _match(compiled: _Compiled, sentence: Sentence) -> Judgement | None:
    pattern = compiled.pattern
    if pattern.question is not None and pattern.question != sentence.question:
        return None
    scopes: tuple[Clause, ...] = (sentence.whole,) if pattern.scope == "sentence" else sentence.clauses
    for clause in scopes:
        text = clause.text
        match = compiled.regex.search(text)
        if match is None:
            continue
        if compiled.unless is not None and compiled.unless.search(text):
            continue
        if (
            pattern.unless_sentence
            and compiled.unless is not None
            and compiled.unless.search(sentence.whole.text)
        ):
            continue
        sure = pattern.sure and not (compiled.soften is not None and compiled.soften.search(text))
        if pattern.rule == PROMISE and sentence.question:
            sure = False  # asking before acting is right; the reviewer checks the offer does not promise
        return Judgement(pattern.rule, sure, pattern.reason, clause.surface(*match.span()))
    return None
