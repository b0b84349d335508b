"""The crisis safety check: suicide, self-harm, immediate danger. Built to miss nothing, at the cost of alarms.

Missing a child in crisis is the worst error this product can make; showing emergency numbers to a child
who did not need them costs little. So a message counts as a crisis when ANY of these fires:
- a phrase pattern (Swedish and English, on folded text: no case, no å/ä/ö, stretched letters shortened);
- a keyword within one typo (two for long words) of a crisis word ("sjalvmord", "självmort", "suicde");
- the classifier gives the crisis intent at least a low probability (it generalises to phrasings the
  patterns do not list).
The check is synchronous and takes microseconds, so it runs on every message in every state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.nlu.classifier import Prediction
from chatbot.nlu.text import normalise

CRISIS = "crisis"
# The classifier's crisis probability above which a message counts as crisis. Deliberately low: see the
# measured recall and false-positive rate in docs/nlu.md.
DEFAULT_CLASSIFIER_THRESHOLD = 0.2

# Patterns run on normalise()d text: lower case, no diacritics (ä -> a, ö -> o), no apostrophes.
# Each name is a reason code for logs and analytics; never log the message itself.
_PATTERNS: dict[str, str] = {
    # Swedish: wanting to die, not wanting to live
    "sv_want_die": r"\b(vill|ville|ska|tanker|tankt|kommer( att)?) (bara |nog |typ )?(do|doo)\b",
    "sv_not_live": r"\b(vill|orkar|kan|ork)( inte| int| ej)( att)? (leva|lev|finnas|vara kvar)\b|"
    r"\bvill (inte|int|ej) vakna",
    "sv_no_more": r"\borkar (inte|int|ej) (mer|langre|med (nagot|nanting|nat|allt|livet))",
    "sv_take_life": r"\b(ta|tar|tagit|tog) (mitt|mit|sitt) (eget )?liv\b|\b(ta|tar|tagit|tog) livet av (mig|mej|sig)",
    "sv_kill_self": r"\b(doda|dodar|doda|skada|skadar|skadat|skadade|skar|skara|skurit|skurt|branna|branner|"
    r"brant|hanga|hanger|rispa|rispar|river|slar|sla) (mig|mej) (sjalv|sjalva|sjav)",
    "sv_cut": r"\b(skar|skara|skurit|skurt|rispar|rispat) (mig|mej)\b",
    "sv_hang": r"\bhanga (mig|mej)\b",
    "sv_jump": r"\b(hoppa|hoppar) (fran|framfor|ut fran|ut genom|ner fran)\b",
    "sv_disappear": r"\b(vill|ville) (bara )?(forsvinna|forsvina|inte vara har)",
    "sv_better_dead": r"\b(om jag (inte fanns|var dod|dog|dor|inte levde|var borta)|"
    r"ingen (skulle|kommer|kmr) (sakna|bry sig)|ingen mening (med|att) (att )?leva|inte vart att leva)",
    "sv_end_all": r"\b(gora|gor|gjort) slut pa (allt|mitt liv|livet|mig)\b|\b(avsluta|avslutar) (mitt liv|livet|allt)\b",
    "sv_goodbye_letter": r"\bavskedsbrev",
    "sv_pills": r"\b(tagit|tog|tar|samlat|svalt|svalde) (en )?(massa |manga |en hel |alla |typ )?"
    r"(tabletter|tabbar|piller|pillren|tabletterna|burk)",
    "sv_danger": r"\b(i fara|inte trygg hemma|radd for mitt liv|radd att (han|hon|de|dom|hen) ska (doda|skada|sla))",
    "sv_violence": r"\b((han|hon|hen|de|dom|nagon|nan|pappa|mamma|styvpappa) (slar|sparkar|skadar|hotar att doda|"
    r"hotar att skada|ska doda|tvingar mig till sex|tar pa mig|valdtar)|blir slagen|blir misshandlad|"
    r"misshandlar mig|misshandlad|(slar|ta|tar|sla) ihjal (mig|mej))",
    "sv_rape": r"\b(valdtagen|valdtogs|valdtar|valdtagit|valdtakt|blev tvingad till sex)",
    "sv_here_now": r"\b(han|hon|hen|de|dom) (ar|e|star) (har|utanfor|pa vag)\b|"
    r"\b(last in mig|ar inlast|inlast)\b|\butanfor (min|var) dorr",
    "sv_emergency": r"\b(ring (polisen|112|ambulans)|ambulans|nodfall|nodlage|det ar akut|akut)\b",
    "sv_never_wake": r"\baldrig (mer )?vakna|\bsomna (in )?for alltid",
    "sv_bridge": r"\b(star|sitter) pa (en |ett )?(bro|bron|tak|taket|kanten|balkongen|perrongen)|\bska hoppa\b",
    "sv_hurt_self": r"\b(river|rispar|branner|skadar|slar|bits|biter) (mig|mej)\b",
    "sv_threat_kill": r"\bhot(at|ar|ade) (att|och sa att|med att) (doda|skada|mord|knivhugga|sla ihjal)",
    "sv_coming": r"\b(pa vag hit|pa vag hem till mig|kommer hit nu|utnyttjad just nu|utnyttjar mig (nu|just nu))",
    "sv_scared_help": r"\bhjalp\b.{0,25}\bradd\b|\bradd\b.{0,25}\bhjalp\b",
    "sv_throw_self": r"\bkasta (mig|mej) (framfor|fran|ut|ner)",
    "sv_forced_sex": r"\btvingar (mig|mej) (att ha sex|till sex|att gora sexuella)|\bvaldtog",
    "sv_hopeless": r"\b(allt|livet|det) ska ta slut\b|\blivet (ar |e )?meningslost|\bingen (utvag|mening med nagot)|"
    r"\bvet var jag bor\b",
    # English
    "en_never_wake": r"\b(never|not) wake up\b|\bsleep forever",
    "en_is_here": r"\b(he|she|they|hes|shes|theyre)( is| s| are)? (here|outside|coming (over|here|to get me))\b",
    "en_die": r"\b(want|wanna|going|gonna|wish|ready|tryna|trying) (to )?(just )?(die|be dead|d1e)\b|"
    r"\bwish i (was|were) dead|\bbetter off dead",
    "en_not_live": r"\b(dont|do not|dnt|don t) (want|wanna) (to )?(live|be alive|exist|be here|wake up)",
    "en_kill_self": r"\b(kill|killing|hurt|hurting|cut|cutting|burn|burning|harm|harming|hang|hanging|"
    r"end|ending|unalive) (my ?self|my ?slef|meself)\b|\bkms\b|\bkys\b|\bunalive",
    "en_end": r"\b(end|ending) (it|it all|my life|everything|things)\b|\btake my (own )?life|\bno way out\b",
    "en_cant_go_on": r"\b(cant|cannot|can not|can t) (go on|take (it|this) any ?more|do this any ?more|cope)",
    "en_disappear": r"\b(want|wanna) (to )?(disappear|vanish|be gone)",
    "en_better_without": r"\b(better off|happier|easier) (without me|if i (was|were|wasnt|werent) "
    r"(gone|dead|here|around))|\bif i (died|was gone|were gone|wasnt here)|no(body| one) (would|will) (miss|care)|"
    r"no (point|reason) (in|to) (living|live|going on)|(suicide|goodbye) (note|letter)",
    "en_pills": r"\b(took|taken|swallowed|saving|saved|collecting) (a lot of |all (the|my) |too many |so many |a bunch of |lots of |loads of |a handful of )?"
    r"(pills|tablets|meds)|\boverdos",
    "en_cutting": r"\b(been|keep|started) (cutting|self harming|harming)|\bself ?harm",
    "en_jump": r"\b(going to|gonna|want to|wanna) jump\b|\bstanding on (a|the) (bridge|roof|ledge)",
    "en_danger": r"\b(in danger|(following|stalking) me|(im|i am|i m|i feel|feel) (not safe|unsafe)|fear for my life|scared for my life)",
    "en_violence": r"\b(he|she|they|someone|somebody|dad|mom|mum|stepdad) (is |s |are )?"
    r"(hitting|beating|hurting|raping|touching|forcing) me|"
    r"\b(going to|gonna|will|wants to|threaten(s|ed)? to|said (he|she|they) (will|would)) (kill|hurt) me|"
    r"\b(beats|hits) me\b|\bbeing (abused|raped|hit|beaten)|\b(raped|rape)\b|\blocked me in",
    "en_here_now": r"\b(outside my (door|house|room|window)|on (his|her|their) way (here|to my))",
    "en_emergency": r"\b(call (the police|the cops|an ambulance|911|112)|emergency)",
}
# Separate patterns: Python's re is slower on one big alternation of these than on the loop.
_COMPILED = [(name, re.compile(pattern)) for name, pattern in _PATTERNS.items()]

# Single words that mean crisis on their own, matched with typo tolerance.
_KEYWORDS = {
    "sjalvmord": "sv_suicide",
    "sjalvmordstankar": "sv_suicide",
    "sjalvmordsforsok": "sv_suicide",
    "sjalvskada": "sv_self_harm",
    "sjalvskador": "sv_self_harm",
    "sjalvskadebeteende": "sv_self_harm",
    "overdos": "sv_pills",
    "valdtagen": "sv_rape",
    "valdtakt": "sv_rape",
    "suicide": "en_suicide",
    "suicidal": "en_suicide",
    "overdose": "en_pills",
    "overdosed": "en_pills",
}
_WORD = re.compile(r"\w+")


def _bigrams(word: str) -> frozenset[str]:
    return frozenset(word[i : i + 2] for i in range(len(word) - 1))


# One edit changes at most three letter pairs, so a word sharing fewer pairs with a keyword than this
# cannot be within the allowed edits; the cheap set test spares most words the edit-distance loop.
_KEYWORD_BIGRAMS = {keyword: _bigrams(keyword) for keyword in _KEYWORDS}


@dataclass(frozen=True)
class CrisisCheck:
    """Whether a message is a crisis, and a reason code (a rule name, never the message text)."""

    crisis: bool
    reason: str = ""


NOT_CRISIS = CrisisCheck(False)


class CrisisDetector:
    def __init__(self, classifier_threshold: float = DEFAULT_CLASSIFIER_THRESHOLD) -> None:
        self.classifier_threshold = classifier_threshold

    def check(self, text: str, prediction: Prediction | None = None) -> CrisisCheck:
        """Patterns and keywords first; then, when given, the classifier's crisis probability."""
        lexical = self.check_text(text)
        if lexical.crisis or prediction is None:
            return lexical
        probability = prediction.probability(CRISIS)
        if probability >= self.classifier_threshold:
            return CrisisCheck(True, f"classifier:{prediction.backend}")
        return NOT_CRISIS

    def check_text(self, text: str) -> CrisisCheck:
        """Patterns and keywords only (no classifier)."""
        folded = normalise(text)
        for name, pattern in _COMPILED:
            if pattern.search(folded):
                return CrisisCheck(True, name)
        for word in _WORD.findall(folded):
            reason = _keyword(word)
            if reason:
                return CrisisCheck(True, reason)
        return NOT_CRISIS


def _keyword(word: str) -> str:
    if len(word) < 6:
        return ""
    pairs = _bigrams(word)
    for keyword, reason in _KEYWORDS.items():
        # Longer forms count too: "sjalvmordet", "suicidala".
        if word.startswith(keyword):
            return reason
        limit = 2 if len(keyword) >= 9 else 1
        if (
            abs(len(word) - len(keyword)) <= limit
            and len(pairs & _KEYWORD_BIGRAMS[keyword]) >= len(_KEYWORD_BIGRAMS[keyword]) - 3 * limit
            and _within(word, keyword, limit)
        ):
            return reason
    return ""


def _within(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance (edits incl. swapped neighbours) of a and b is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[len(b)] <= limit
