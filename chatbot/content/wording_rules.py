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

from chatbot.content.wording import Clause, Sentence, read, split_sentences

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
    "REMOVE": r"(?:ta bort|ta ner|få bort|plocka\w* bort|rader\w*|fixa\w*|stopp\w*|lösa|ordna\w*|se till|rensa\w*|"
    r"spärra\w*|stäng\w* (?:av|ner)|plocka\w* ner)",
    "OUTCOME": r"(?:försvinna|ta bort|rader\w*|se|hitta\w*|sprida|dyka upp|få se|få veta|veta|"
    r"kunna (?:se|sprida|hitta|dela|göra)|straff\w*|dömas|döma|grip\w*|åka fast|bli (?:bra|okej|bättre)|lösa sig|"
    r"kunna \w+|ordna\w* sig|gå bra|vara borta|bli borta|vara (?:säker|trygg|över)|ta (?:han|hon|hen|de)|"
    r"stopp\w* (?:han|hon|hen|de)|hända igen)",
    # Words that make a statement uncertain, conditional or an offer: the honest way to speak of outcomes.
    "HEDGE": r"(?:vilja|önska\w*|kanske|försöka|hoppas|brukar|oftast|ofta|ibland|troligen|förhoppningsvis|(?<!hand )om|ifall|"
    r"hur|inte lova|lova inte|inte garanter\w*|garanter\w* inte|inte säker\w*|veta inte|inte alltid|"
    r"chatt\w*|samtal\w*|automatiskt|hjälpa|be|ber|bad)",
    "NEG": r"(?:inte|aldrig|ej|ingen|inget|inga)",
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
        "says what the child should have done: that puts the blame on the child",
        unless=r"\b(?:behövt|behöva|känna|skämmas|oroa|behöver)\b|\bska du\b|\bdu ska (?!inte ha|aldrig ha|ha)",
    ),
    Pattern(
        BLAME,
        r"\bdu kunna (?:ju |väl )?ha \w+|\bdu ha kunna \w+|\bdu kunna (?:inte|aldrig) (?:ha )?\w+",
        "says the child could have acted otherwise: that puts the blame on the child",
        unless=r"\b(?:inte|aldrig)\b",
    ),
    Pattern(
        BLAME,
        r"\bvarför {PASTV} (?:du|ni)\b|\bvarför (?:ha|har) du \w+|\bvarför (?:skulle|ska|kunde) du\b",
        "asks the child why they did something: even as a question it says they are to blame",
    ),
    Pattern(
        BLAME,
        r"\bhur kunna du\b|\bvad tänka du\b|\bvad (?:hade|trodde|väntade) du (?:dig|du)?\b|\bhur tänka du\b",
        "questions the child's judgement: that blames the child",
    ),
    Pattern(
        BLAME,
        r"\bnästa gång\b",
        "advice for 'next time' says the child caused it this time: that is blame hidden in advice",
        unless=r"\bnästa gång vi\b|\bnästa gång (?:du|ni) (?:vilja|behöva|känna|undra|ha lust|skriva till vi|prata|kontakta)\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bså (?:att )?(?:det )?(?:inte )?(?:hända|gör du) (?:inte |det )?(?:om|igen)\b|\bsamma misstag\b|"
        r"\blära du (?:av|något)\b|\blärdom\w*\b|\bnu veta du (?:att|bättre)\b|\bditt misstag\b|\bett misstag\b",
        "says the child must learn a lesson: that makes it their fault",
        unless=r"\binte (?:ditt|ett) misstag\b|\bingen lärdom\b",
    ),
    Pattern(
        BLAME,
        r"\bdet (?:var|är) (?:\w+ )?(?:dumt|naivt|korkat|slarvigt|oförsiktigt|oklokt|riskabelt|onödigt|"
        r"inte (?:så |särskilt |speciellt |jätte)?(?:smart|klokt|bra gjort))\b|\bvar inte (?:så |särskilt |speciellt )?(?:smart|klokt)\b|"
        r"\b(?:dumt|naivt|korkat|slarvigt|oförsiktigt|oklokt) (?:av du|gjort)\b|\bdu var (?:\w+ )?(?:dum|naiv|korkad|oförsiktig|slarvig)\b",
        "judges what the child did: that blames the child",
    ),
    Pattern(
        BLAME,
        r"\b(?:ditt|ditt eget) (?:fel|ansvar)\b|\bdet var (?:\w+ )?(?:ditt|ditt eget) (?:val|beslut)\b|\bdu ha (?:ett |något )?(?:eget )?ansvar\b|"
        r"\bskylla (?:du )?själv\b|\bdu ha du själv\b|\bdu (?:valde|ville ju|ville själv|gick med på|lät (?:det|han|hon|hen)|"
        r"ta (?:en )?(?:\w+ )?risk|bad om det)\b|\bdu veta (?:väl|ju)\b|\bdu borde veta\b|\bdu böra veta\b",
        "puts the responsibility on the child; say that the one who threatens or spreads is responsible",
        unless=r"\b(?:inte|aldrig)\b",
    ),
    Pattern(
        BLAME,
        r"\bom du (?:inte |aldrig )?ha (?:inte )?\w+ (?:\w+ )?(?:ha|ska)\b|^ha du (?:inte |aldrig )?\w+ .*\bha (?:det|han|hon|hen|inget|ingen)\b",
        "says it would not have happened if the child had acted otherwise: that blames the child",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bman (?:ska|böra|få) (?:aldrig|inte) (?:skicka|lita|dela|ta|visa)\b|\bman (?:inte|aldrig) (?:ska|böra|få) (?:skicka|lita|dela|ta|visa)\b|\bskicka aldrig\b",
        "a rule about what one must never send reads as blame to a child it already happened to",
        soften=r".",
    ),
    # Guideline 2: asking who the child is.
    Pattern(
        PERSONAL,
        r"\bvad heta du\b|\bvad du heta\b|\bheta du\b|\b{ASK} (?:\w+ ){0,3}ditt (?:\w+)?namn\b|\bvad heta (?:din|dina|ditt) \w+|"
        r"\bvad (?:vara|är) (?:ditt|dina) (?:\w+ )?namn\b",
        "asks for a name: children stay anonymous here, never ask who they (or people near them) are",
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bhur gammal\b|\bdin ålder\b|\bvilket år\b.*\bfödd\b|\bnär (?:är|var) du född\b|\bdu född\b|"
        r"\b(?:är|vara) du {NUM}\b|\b{NUM} eller {NUM}\b|\bdin födelsedag\b",
        "asks the child's age: it helps identify them; never ask it in the chat",
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bvar (?:\w+ )?bo du\b|\bvar du bo\b|\bbo du i\b|\bvar (?:\w+ )?komma du (?:ifrån|från)\b|\bvarifrån (?:komma|är) du\b|"
        r"\b(?:vilken|vilket|i vilken|i vilket) (?:stad|ort|kommun|stadsdel|land|län|område|by|gata|del av)\b|"
        r"\bdin (?:adress|hemadress|gata|postadress)\b|\bvar (?:\w+ )?(?:ligger|är) ditt hem\b",
        "asks where the child lives or comes from: that identifies them",
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:vilken|vilket|din|vad heta din|i vilken) {SLOT_SCHOOL}\b|\bgå du i (?:\w+an|klass|årskurs|{NUM})\b|"
        r"\bvar gå du i skola\w*\b|\bgå du på\b|\bvad heta skolan\b|\bgå du i (?:\w+ )?eller\b",
        "asks about the child's school or class: that identifies them",
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b{ASK} (?:\w+ ){0,3}(?:ditt|din|dina) {SLOT_CONTACT}\b|\b(?:vad|vilket|vilken) (?:\w+ )?(?:ditt|din|dina) {SLOT_CONTACT}\b|"
        r"\bhur (?:kunna |ska )?(?:vi nå|nå vi) du\b|\bvad ha du för (?:\w+ )?{SLOT_CONTACT}|\b(?:vilket|vilken|vad) (?:\w+ )?{SLOT_CONTACT} ha du\b|\bnå du (?:senare|sedan|igen)\b|"
        r"\b(?:ringa|ring\w*) (?:du|upp)\b|\bkontakta du\b|\bhöra av vi till du\b|\bhöra av vi\b",
        "asks for contact details: we never contact a child outside the chat, and never ask for a number or address",
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:ditt|din|dina) (?:\w+)?(?:namn|{SLOT_CONTACT}|skola|klass|ålder|adress)\b",
        "mentions the child's name, school or contact details: check that it does not ask for them",
        unless=r"\b{NEG}\b|\bbehöva inte\b",
        scope="sentence",
        sure=False,
    ),
    Pattern(
        PERSONAL,
        r"\bvad heta (?:din|dina|ditt) (?:föräldrar|mamma|pappa|syskon|kompis\w*|vän\w*)\b|\b(?:dina|din) (?:föräldrar|mamma|pappa)s? namn\b",
        "asks who the child's family or friends are: that identifies the child",
        unless=r"\b{NEG}\b",
    ),
    # Guideline 3: promises of an outcome we cannot guarantee.
    Pattern(
        PROMISE,
        r"\b{WE} (?:(?:ska|komma|att|nog|snabbt|direkt|genast|alltid|själva|helt|sedan|också|gärna|kunna|då) )*{REMOVE}",
        "says we will remove or fix it: we can only try; write 'vi försöker få bort den'",
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
        soften=r"\bkunna\b",
    ),
    Pattern(
        PROMISE,
        r"\b{IT} (?:\w+ )?(?:ta|få|plocka|rader\w*|fixa\w*|stopp\w*|lösa|ordna\w*|sköta\w*) (?:\w+ )?{WE}\b",
        "says we will remove or fix it: we can only try; write 'vi försöker få bort den'",
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:komma|ska) (?:(?:inte|aldrig|att) )*(?:att )?{OUTCOME}\b",
        "says for certain what will happen to the picture or the person: nobody can promise that",
        unless=r"\b{HEDGE}\b|\bkomma (?:inte |aldrig )?(?:att )?(?:försvinna|bli bra|ta bort)\b(?=.*\b(?:inte|aldrig)\b)",
    ),
    Pattern(
        PROMISE,
        r"\b(?:är|blir|bli|vara) {IT} (?:\w+ )?(?:borta|över|slut|glömd|glömt|glömda)\b(?! \d| hela)|"
        r"\b{IT} (?:är|blir|bli|vara) (?:\w+ )?(?:borta|över|slut|glömd|glömt|glömda)\b(?! \d| hela)|"
        r"\bborta för (?:gott|alltid)\b|\bför (?:gott|alltid) borta\b",
        "says it is over or gone: nobody can promise that; say what we do and what may happen",
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\bingen (?:\w+ )?(?:\w+ )?(?:komma|ska) (?:att )?(?:få )?(?:se|veta|hitta|sprida|känna igen)\b|"
        r"\b(?:se|sprida|dyka upp|hitta\w*|hända|visa\w*|lägg\w* upp) (?:inte|aldrig) (?:\w+ )?(?:mer|längre|igen|vidare)\b|"
        r"\b(?:dyka|komma|poppa|lägg\w*) (?:inte|aldrig) upp\b",
        "promises that nobody will see it or that it stops: nobody can promise that",
        unless=r"\b{HEDGE}\b",
        soften=r"\bkunna\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:lova|garanter\w*|försäkra)\b|\b100 ?%|\bhundra procent\b|\b(?:jag|vi) (?:är|vara) (?:helt )?säk(?:er|ra) på\b|"
        r"\bdet (?:är|blir) (?:helt )?säkert\b(?! att (?:skicka|berätta|prata))|\bdefinitivt\b|\bmed säkerhet\b|\bgaranterat\b",
        "gives a guarantee: we cannot guarantee outcomes; say what we will try",
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:allt|det|det här) (?:\w+ )?(?:bli|ordna\w* sig|lösa sig|gå bra|gå över)\b(?: \w+)? ?(?:bra|okej|sig|över|fint)?\b"
        r"(?<=bra|kej|sig|ver|int)|\bdu (?:är|bli|vara) (?:\w+ )?(?:säker|trygg)\b(?! på)|\b(?:är|bli|vara) du (?:\w+ )?(?:säker|trygg)\b(?! på)",
        "reassures with an outcome nobody can promise ('det blir bra', 'du är säker nu')",
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
        question=False,
    ),
    Pattern(
        PROMISE,
        r"\b{IT} (?:\w+ )?(?:rader\w*s|ta bort|ta ner|försvinna|plocka\w* bort|stäng\w* (?:av|ner))\b|"
        r"\b(?:sidan|appen|plattformen|polisen|de|snapchat|instagram|tiktok|discord|google) (?:\w+ )?(?:ta bort|ta ner|rader\w*|stäng\w* (?:av|ner))\b",
        "states as a fact that it is removed: that is an outcome nobody can promise; say what we or they will try",
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\bnär\b|\bdu\b",
        soften=r".",
    ),
    Pattern(
        BLAME,
        r"\bvar (?:mer |lite )?(?:försiktig\w*|vaksam\w*)\b",
        "tells the child to be more careful: after something happened, that reads as blame",
        soften=r".",
    ),
    Pattern(
        PROMISE,
        r"\b(?:måste|ska|tvingas) (?:\w+ )?(?:ta bort|ta ner|radera\w*)\b",
        "states that someone will have to remove it: that is a certainty we do not have",
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\bdu\b",
        soften=r".",
    ),
)

# --- English -----------------------------------------------------------------------------------------------

EN_WORDS = {
    "WE": r"(?:we|i)",
    "IT": r"(?:it|they|the (?:picture|pictures|photo|photos|video|videos|image|images|nude|nudes|post|copies)|"
    r"every copy|all (?:the )?copies|everything|he|she|this)",
    "REMOVE": r"(?:delete|remove|take (?:it |them |that |this )?down|get rid of|get (?:it |them )?(?:removed|down|deleted)|"
    r"take (?:\w+ )?off|shut (?:\w+ )?down|close (?:\w+ )?down|fix|stop|sort (?:it |this |that )?out|make sure|ensure|erase|wipe|handle it|deal with it|block)",
    "HEDGE": r"(?:want|wish|how|try|maybe|might|may|hope|hopefully|usually|often|sometimes|probably|if|whether|"
    r"can not promise|not promise|can not guarantee|not guarantee|not sure|do not know|not always|"
    r"chat|conversation|automatically|help|ask)",
    "NEG": r"(?:not|never|no|nobody|nothing|none)",
    "NUM": r"(?:\d+|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen)",
    "SLOT_CONTACT": r"(?:phone number|number|mobile number|email|e-mail|address|username|user name|snapchat|snap|instagram|"
    r"insta|tiktok|discord|handle|contact details)",
}

EN: tuple[Pattern, ...] = (
    Pattern(
        BLAME,
        r"\byou (?:should|ought to|could|might|would|need to) (?:not |never )?(?:really )?have (?!had to)\w+|"
        r"\byou (?:should|ought to) (?:\w+ )?know better\b",
        "says what the child should or could have done: that puts the blame on the child",
        unless=r"\bcould not have\b|\bcould never have\b|\bhave had to\b",
    ),
    Pattern(
        BLAME,
        r"\bwhy (?:did|do|would|were|was|have|had) (?:not )?you\b|\bwhy (?:did|do|would|were|was|have|had) you not\b|"
        r"\bhow could you\b|\bwhat were you think\b|\bwhat do you expect\b",
        "asks the child why they did something: even as a question it says they are to blame",
    ),
    Pattern(
        BLAME,
        r"\bnext time\b",
        "advice for 'next time' says the child caused it this time: that is blame hidden in advice",
        unless=r"\bnext time we\b|\bnext time (?:you )?(?:want|need|feel|have|wonder|would like|are)\b",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\bsame mistake\b|\b(?:a|your) mistake\b|\blearn (?:from|your lesson|a lesson)\b|\blesson\b|"
        r"\bso (?:that )?(?:it|this) (?:does|will) not happen again\b|\bso it never happens again\b",
        "says the child must learn a lesson: that makes it their fault",
        unless=r"\bnot (?:a|your) mistake\b|\bno mistake\b",
    ),
    Pattern(
        BLAME,
        r"\b(?:it|that|this) (?:was|is) (?:\w+ )?(?:a )?(?:\w+ )?(?:stupid|naive|silly|careless|reckless|dumb|unwise|foolish|risky)\b|"
        r"\b(?:it|that|this) (?:was|is) not (?:a )?(?:very |so |particularly |really )?(?:smart|wise|clever|good idea|sensible)\b|"
        r"\byou were (?:\w+ )?(?:stupid|naive|silly|careless|reckless|foolish)\b|\b(?:was|were) not (?:a )?(?:very |so |particularly |really )?(?:smart|wise|clever|sensible)\b",
        "judges what the child did: that blames the child",
    ),
    Pattern(
        BLAME,
        r"\byour (?:own )?(?:fault|responsibility)\b|\b(?:it|that) was (?:\w+ )?your (?:own )?(?:choice|decision)\b|\byou are (?:\w+ )?responsible\b|"
        r"\bbrought (?:this|it) on yourself\b|\byourself to blame\b|\basked for it\b(?! to)|\byou (?:let (?:it|him|her|them)|chose to|decided to|agree to|"
        r"went along|take (?:a|that|such a) (?:\w+ )?risk|knew (?:better|you|that|it))\b",
        "puts the responsibility on the child; say that the one who threatens or spreads is responsible",
        unless=r"\b(?:not|never|no)\b",
    ),
    Pattern(
        BLAME,
        r"\bif you had (?:not |never )?\w+",
        "says it would not have happened if the child had acted otherwise: that blames the child",
        scope="sentence",
    ),
    Pattern(
        BLAME,
        r"\byou should (?:never|not) (?:send|share|trust|take|show)\b|\bnever send (?:nudes|pictures|photos|anything)\b",
        "a rule about what one must never send reads as blame to a child it already happened to",
        soften=r"^(?!you)",
    ),
    Pattern(
        PERSONAL,
        r"\bwhat is your (?:[\w']+ )?name\b|\b(?:write|type|tell|give|send|leave|share|enter) (?:\w+ ){0,3}your (?:\w+ )?name\b|\bwhat (?:are|do) (?:you|they) call(?:ed)?\b|"
        r"\bwhat are your (?:\w+ )?names\b|\bwhat is your [\w']+ call(?:ed)?\b|\b(?:parents|mom|dad|teacher|friend|friends)'?s? names?\b|"
        r"\bwho are your (?:parents|friends)\b",
        "asks for a name: children stay anonymous here, never ask who they (or people near them) are",
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bhow old\b|\byour age\b|\bwhen were you born\b|\bwhat year (?:\w+ )?born\b|\byou born\b|\bare you {NUM}\b|"
        r"\b{NUM} or {NUM}\b|\byour (?:birthday|date of birth)\b",
        "asks the child's age: it helps identify them; never ask it in the chat",
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\bwhere (?:do|did) you live\b|\bwhere you live\b|\bdo you live in\b|\bwhere (?:are|do) you (?:\w+ )?from\b|"
        r"\b(?:which|what) (?:city|town|village|area|country|neighbou?rhood|street|part of|county|municipality|suburb)\b|"
        r"\byour (?:address|home address|postcode|zip code|street)\b|\b(?:city|town) (?:do )?you (?:live|are from|come from)\b",
        "asks where the child lives or comes from: that identifies them",
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:which|what|your) (?:\w+ )?(?:school|class|grade|year group|form|teacher|year are you)\b|\bwhere do you go to school\b|"
        r"\bare you in (?:\w+ )?(?:grade|year|class)\b|\b(?:\w+th|\d+th|first|second|third) or (?:\w+th|\d+th) (?:grade|year)\b|"
        r"\bwhat grade\b|\bgo to school\b",
        "asks about the child's school or class: that identifies them",
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\b(?:write|type|tell|give|send|leave|share|enter|fill in|let we know|what is|what are) (?:\w+ ){0,3}your (?:\w+ )?{SLOT_CONTACT}\b|"
        r"\bhow (?:can|could|do|should) we (?:reach|contact|call|find|get hold of) you\b|"
        r"\b(?:call|ring|text|email|contact) you\b|\bget back to you\b|\breach you\b",
        "asks for contact details: we never contact a child outside the chat, and never ask for a number or address",
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
    ),
    Pattern(
        PERSONAL,
        r"\byour (?:\w+ )?(?:name|{SLOT_CONTACT}|school|class|age|address)\b",
        "mentions the child's name, school or contact details: check that it does not ask for them",
        unless=r"\b{NEG}\b|\bdo not have to\b",
        scope="sentence",
        sure=False,
    ),
    Pattern(
        PROMISE,
        r"\b{WE} (?:(?:will|shall|are going to|am going to|going to|can|could|just|quickly|then|also|always|definitely|"
        r"right away|personally|now|really|make sure to) )*{REMOVE}\b",
        "says we will remove or fix it: we can only try; write 'we'll try to get it removed'",
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
        soften=r"\b(?:can|could)\b",
    ),
    Pattern(
        PROMISE,
        r"\bwill (?:(?:not|never|all|soon|quickly|definitely|be able to|ever) )*(?:be )?(?:removed|deleted|gone|taken down|"
        r"disappear|show up|turn up|come back|pop up|spread|share|shared|posted|post|seen|get caught|get punished|get arrested|"
        r"(?:catch|arrest|stop|punish|find) (?:he|she|they)|punish\w*|arrested|"
        r"caught|catch|stopped|stop|fine|ok|okay|alright|all right|safe|over|work out|sorted|happen again|able to)\b|"
        r"\b(?:is|are|am) (?:all )?going to (?:(?:not|never|all|be) )*(?:removed|deleted|gone|taken down|disappear|show up|spread|see|find out|"
        r"punish\w*|arrested|caught|fine|ok|okay|alright|all right|safe|over|work out|happen again)\b",
        "says for certain what will happen to the picture or the person: nobody can promise that",
        unless=r"\b{HEDGE}\b|\bwill not (?:be )?(?:removed|deleted|gone|disappear|fine|ok|okay|safe)\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:it|they|that|this|everything|the \w+) (?:is|are|will be) (?:\w+ )?(?:gone|over|finished|deleted|removed|forgotten)\b(?! \d| the)|"
        r"\bgone for (?:good|ever)\b|\bforever gone\b|\bthe end of it\b|\b(?:it|they) (?:is|are) not coming back\b",
        "says it is over or gone: nobody can promise that; say what we do and what may happen",
        unless=r"\b{HEDGE}\b|\bnot (?:gone|over)\b",
    ),
    Pattern(
        PROMISE,
        r"\bnobody (?:\w+ )?(?:\w+ )?(?:will|is going to|shall) (?:ever )?(?:see|find|know|spread|recogni[sz]e)\b|"
        r"\b(?:see|spread|show up|share|post)\w* (?:it )?(?:not|never) (?:\w+ )?(?:again|any ?more|any further|any longer)\b",
        "promises that nobody will see it or that it stops: nobody can promise that",
        unless=r"\b{HEDGE}\b",
        soften=r"\b(?:can|could)\b",
    ),
    Pattern(
        PROMISE,
        r"\bpromise\b|\bguarantee\w*|\b100 ?%|\bhundred percent\b|\b(?:i|we) am (?:\w+ )?(?:sure|certain|positive)\b|"
        r"\b(?:i|we) are (?:\w+ )?(?:sure|certain|positive)\b|\bfor sure\b|\bdefinitely\b|\bour word\b|\bmy word\b|\bi swear\b",
        "gives a guarantee: we cannot guarantee outcomes; say what we will try",
        unless=r"\b{NEG}\b",
    ),
    Pattern(
        PROMISE,
        r"\b(?:everything|it|things|all) (?:\w+ )?(?:will|is going to|are going to) (?:all )?(?:be )?(?:fine|ok|okay|alright|all right|"
        r"work out|get sorted|sort itself out)\b|\byou (?:will|are going to) be (?:\w+ )?(?:safe|fine|ok|okay)\b|"
        r"\byou are (?:\w+ )?safe now\b|\bit will all work out\b",
        "reassures with an outcome nobody can promise ('it'll be fine', 'you're safe now')",
        unless=r"\b{HEDGE}\b|\b{NEG}\b",
        question=False,
    ),
    Pattern(
        PROMISE,
        r"\b{IT} (?:\w+ )?(?:gets? (?:deleted|removed|taken down)|is (?:deleted|removed|taken down)|disappears|removes|deletes|takes (?:\w+ )?down)\b|"
        r"\b(?:the site|the app|the platform|the police|they|snapchat|instagram|tiktok|discord|google) (?:\w+ )?(?:removes?|deletes?|takes? (?:\w+ )?down|shuts? (?:\w+ )?down)\b",
        "states as a fact that it is removed: that is an outcome nobody can promise; say what we or they will try",
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\bwhen\b|\byou\b",
        soften=r".",
    ),
    Pattern(
        BLAME,
        r"\bbe (?:more |a bit more )?(?:careful|cautious)\b",
        "tells the child to be more careful: after something happened, that reads as blame",
        soften=r".",
    ),
    Pattern(
        PROMISE,
        r"\b(?:has to|have to|must|will have to|are required to) (?:\w+ )?(?:remove|delete|take (?:it |them )?down)\b",
        "states that someone will have to remove it: that is a certainty we do not have",
        unless=r"\b{HEDGE}\b|\b{NEG}\b|\byou\b",
        soften=r".",
    ),
)

PATTERNS: Mapping[str, tuple[Pattern, ...]] = {"sv": SV, "en": EN}
WORDS: Mapping[str, Mapping[str, str]] = {"sv": SV_WORDS, "en": EN_WORDS}


def _expand(regex: str, words: Mapping[str, str]) -> str:
    return re.sub(r"\{([A-Z_]+)\}", lambda m: words[m.group(1)], regex)


@dataclass(frozen=True)
class _Compiled:
    pattern: Pattern
    regex: re.Pattern[str]
    unless: re.Pattern[str] | None
    soften: re.Pattern[str] | None


@cache
def _compiled(language: str) -> tuple[_Compiled, ...]:
    words = WORDS[language]

    def compile_(regex: str | None) -> re.Pattern[str] | None:
        return re.compile(_expand(regex, words)) if regex is not None else None

    return tuple(
        _Compiled(p, re.compile(_expand(p.regex, words)), compile_(p.unless), compile_(p.soften))
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
        sure = pattern.sure and not (compiled.soften is not None and compiled.soften.search(text))
        if pattern.rule == PROMISE and sentence.question:
            sure = False  # asking before acting is right; the reviewer checks the offer does not promise
        return Judgement(pattern.rule, sure, pattern.reason, clause.surface(*match.span()))
    return None
