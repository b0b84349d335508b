"""The crisis safety check: suicide, self-harm, immediate danger. Built to miss nothing, at the cost of alarms.

Missing a child in crisis is the worst error this product can make; showing emergency numbers to a child
who did not need them costs little. So a message counts as a crisis when ANY of these fires:
- a phrase pattern (Swedish, English and Arabic, on folded text: no case, no å/ä/ö, stretched letters
  shortened; Arabic without tashkeel or tatweel and with one form of alef, ya and ta marbuta, see
  chatbot/nlu/text.py). Arabic covers Modern Standard Arabic, the Levantine, Iraqi, Egyptian and Gulf
  dialects, and Arabic written in Latin letters ("bdi mout", "3ayez amoot");
- a keyword within one typo (two for long words) of a crisis word ("sjalvmord", "självmort", "suicde");
- the classifier gives the crisis intent at least a low probability (it generalises to phrasings the
  patterns do not list).
The check is synchronous and takes microseconds, so it runs on every message in every state.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from chatbot.nlu.classifier import Prediction
from chatbot.nlu.literals import Prefilter, required
from chatbot.nlu.text import normalise

CRISIS = "crisis"
# The languages whose crisis phrases the check knows (one of the conditions of a safe-complete language,
# chatbot/content/languages.py). Arabic includes Arabic written in Latin letters.
CRISIS_LANGUAGES = frozenset({"sv", "en", "ar"})
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
    # A person's threat, however it is meant ("pappa kommer döda mig"): never read as overstatement.
    "sv_threat_person": r"\b(han|hon|hen|de|dom|nagon|nan|pappa|mamma|styvpappa|styvmamma|brorsan|min bror|"
    r"killen|mannen)( kommer( att)?| ska| tanker| sa att (han|hon|hen|de|dom) ska) (doda|sla ihjal|morda) (mig|mej)\b",
    "sv_rape": r"\b(valdtagen|valdtogs|valdtar|valdtagit|valdtakt|blev tvingad till sex)",
    "sv_here_now": r"\b(han|hon|hen|de|dom) (ar|e|star) (har|utanfor|pa vag)\b|"
    r"\b(last in mig|ar inlast|inlast)\b|\butanfor (min|var) dorr",
    "sv_emergency": r"\b(ring (polisen|112|ambulans)|ambulans|nodfall|nodlage|det ar akut|akut)\b",
    "sv_never_wake": r"\baldrig (mer )?vakna|\bsomna (in )?for alltid",
    "sv_bridge": r"\b(star|sitter) pa (en |ett )?(bro|bron|tak|taket|kanten|balkongen|perrongen)|\bska hoppa\b",
    "sv_hurt_self": r"\b(river|rispar|branner|skadar|slar|bits|biter) (mig|mej)\b|"
    r"\b(brukar|borjat|borjade|vill|ska|maste) (skara|rispa|branna|skada|sla|riva) (mig|mej)\b|\bbranna (mig|mej) med\b",
    "sv_threat_kill": r"\bhot(at|ar|ade) (att|och sa att|med att) (doda|skada|mord|knivhugga|sla ihjal)",
    "sv_coming": r"\b(pa vag hit|pa vag hem till mig|kommer hit nu|utnyttjad just nu|utnyttjar mig (nu|just nu))",
    "sv_scared_help": r"\bhjalp\b.{0,25}\bradd\b|\bradd\b.{0,25}\bhjalp\b",
    "sv_throw_self": r"\bkasta (mig|mej) (framfor|fran|ut|ner)",
    "sv_forced_sex": r"\btvingar (mig|mej) (att ha sex|till sex|att gora sexuella)|\bvaldtog",
    "sv_hopeless": r"\b(allt|livet|det) ska ta slut\b|\blivet (ar |e )?meningslost|\bingen (utvag|mening med nagot)|"
    r"\bvet var jag bor\b",
    # Warning signs without a word about dying (issue 18): giving things away, farewells, being a burden.
    "sv_give_away": r"\b(gett|gav|ger|ge|skankt|skankte|skanker|skanka|delat ut|delar ut)( bort)? (bort )?"
    r"(alla |allt |de flesta |typ alla )?(av )?(mina|mitt|mna) (saker|grejer|prylar|agodelar|grejor)|"
    r"\b(gett|gav|ger|ge|skankt|skankte|skanker|skanka) bort allt\b",
    "sv_farewell": r"\b(sagt|sager|sa|skrivit|skickat|skickar|skriver) (hejda|hej da|farval|adjo|avsked) (till|at) "
    r"(alla|er|min familj|mina)|\bskrivit (brev|meddelanden|lappar) till (alla|min familj|mamma och pappa|mina)",
    "sv_burden": r"\b(battre|lattare|gladare|lyckligare) utan mig\b|\b(bara )?en borda (for|at) (alla|er|min familj)|"
    r"\bsnart slipper\b|\bslipper (ni|alla|du|dom|de) mig\b",
    "sv_forever_sleep": r"\b(somna|sova|sover)\b.{0,30}\bfor alltid\b|\bslippa (allt|livet) for alltid",
    "sv_plan": r"\bplan (for|pa) (hur|att) (jag ska )?(do|ta livet|doda mig|ta mitt liv)",
    "en_give_away": r"\b(gave|give|giving|given)( away)? (all (of )?)?(my|of my) (stuff|things|belongings|possessions|"
    r"stuf)\b|\b(gave|giving|given) (it all|everything) away\b|\b(gave|giving|given) away (all|everything)\b",
    "en_farewell": r"\b(said|saying|say) (goodbye|bye) to (everyone|everybody|all|my (family|friends))|"
    r"\b(wrote|written|writing) (goodbye )?(letters|notes) to (everyone|everybody|my family|all)|"
    r"\bgoodbye (notes?|letters?)",
    "en_burden": r"\bbetter without me\b|\b(a|just a) burden (to|for|on) (everyone|everybody|all|my family|you)|"
    r"\bno(body| one) (will|would|has to|have to)( have to)? (deal with|worry about) me",
    "en_forever": r"\b(want|wish)( for)? (it|everything|it all) to (stop|end) (forever|for good)",
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
    # "Should I call the police on him" asks about reporting (report_police); calling an ambulance or 112 never is.
    "en_emergency": r"\b((?<!should i )(?<!can i )(?<!do i )(?<!shall i )(?<!if i )call (the police|the cops)|"
    r"call (an ambulance|911|112)|emergency)",
    # Arabic, on normalise()d text: no tashkeel/tatweel, أ إ آ -> ا, ة -> ه, ى -> ي, ؤ -> و, ئ -> ي, گ -> ك.
    # Words take prefixes (و and, ب/ه/ح/س future and present, ع/عم progressive), so many stems match
    # inside a word. MSA, Levantine (بدي, هلق, حالي), Iraqi (اريد, روحي, ماكو, هوايه), Egyptian (عايز,
    # مش, هـ-future, دلوقتي) and Gulf (ابي, ابغي, ودي, محد, الحين).
    "ar_want_die": r"\b(و?(اريد|بدي|بدى|ابي|ابغي|ابغا|ودي|عايز|عايزه|عاوز|عاوزه|نفسي|حابب|حابه|اتمني|بتمني|"
    r"ياريت|يا ريت|ليت|ليتني)( ان| اني| لو| انو)? ?(اموت|موت|نموت|الموت|انموت|اموت ب?حالي))\b",
    "ar_not_live": r"\bو?(لا|ما|مش|مو|مب|ماني|مابي|مابدي) ?(عاد |عدت |بقيت |عدت )?(اريد|بدي|ابي|ابغي|ابغا|عايز|"
    r"عايزه|عاوز|عاوزه|ودي|ارغب|قادر|قادره|اقدر|اكدر|اقدرش|استطيع|حابب|حابه)?( ان| في| اني| انو)? ?(اعيش|عيش|"
    r"العيش|احيا|الحياه|الاستمرار|اكمل حياتي|كمل حياتي|اكمل|كمل|اكمل عايش|ابقي عايش|ابقي|اعيشها|استمر في الحياه)\b",
    "ar_suicide": r"نتحر|نتحار",
    "ar_kill_self": r"(قتل|كتل|موت|ذبح|اذي|وذي|يذا|جرح|شنق|حرق|اضر|ضرب|شرط|عور)\w* (ب|في)?(نفسي|حالي|روحي|ذاتي)\b",
    "ar_veins": r"(شراييني|شرايين ايدي|عروقي|معصمي)|\bتشريط\b|\bبالشفره\b|\bبالموس\b",
    "ar_wish_dead": r"\b(ياريتني|يا ريتني|ليتني|اتمني لو|اتمني اني|ياريت لو|يا ريت لو|ياريت اني|يا ريت اني|كان نفسي)"
    r"( كنت| كانت)? ?(ميت|ميته|مت|موت|ما انولدت|ما خلقت|لم اولد|ما جيت|مو موجود|مش موجود|مش عايش|مو عايش|"
    r"غير موجود|ما كنت موجود)",
    "ar_nobody_miss": r"\b(لن|ما|محد|مفيش|ماكو|مافي|ولا|لا|محدش|ماحد)\b.{0,25}(فتقدني|شتاقلي|شتقلي|فقدني|شتاق لي|"
    r"حزن علي|يهتم اذا مت|يهتم لو مت|يحس بغيابي|فرق معه اذا مت)",
    "ar_better_dead": r"\b(احسن|افضل|ارتاح\w*)( لهم| للكل| للجميع)? (لو|اذا|ان|من غير ما) ?(مت|اموت|اختفيت|ما كنت)",
    "ar_end_life": r"(انهي|انهاء|بنهي|هنهي|سانهي|نهي)\w* (حياتي|عمري|كل شي|كلشي|هالحياه|الحياه|نفسي)\b|"
    r"(خلص|اخلص)\w* (من|على|علي|ع) (حياتي|نفسي|حالي|روحي|عمري|هالحياه|الحياه|هالدنيا|الدنيا)\b|"
    r"\bارتاح (من|ع) (الدنيا|الحياه|حياتي|هالدنيا|هالحياه)",
    "ar_tired_life": r"(تعبت|مليت|زهقت|طفشت|قرفت|سيمت|كرهت)\w* (من )?(ال)?(حياه|حياتي|دنيا|عيشه|عمري|عيشتي|"
    r"هالحياه|هالدنيا)\b",
    "ar_meaningless": r"(الحياه|حياتي|العيشه|الدنيا)( \w+)? (لا|ما|مالها|ملهاش|مالهاش|بلا|بدون|مافي|ما في|مفيش)"
    r"( لها| الها| اله| فيها)? ?(ال)?(معني|فايده|طعم|امل)|\b(ما في|مافي|مفيش|ماكو|لا يوجد|ما عاد في|لا) (امل|مخرج)\b",
    "ar_disappear": r"\b(اريد|بدي|ابي|ابغي|عايز|عايزه|ودي|نفسي|اتمني)( ان)? (اختفي|اختفي للابد|اغيب للابد|ارحل للابد)",
    "ar_pills": r"(بلع|ابتلع|اخذت|اخدت|خذيت|شربت|اشرب|بشرب|باخد|هاخد|راح اخذ|اكلت|جمعت|اجمع|عم جمع)\w* .{0,20}"
    r"(كل ال(حبوب|حبات|برشام|ادويه|اقراص|دوا)|علبه|هوايه|وايد|كثير|الكثير|كتير|شريط|كميه|جرعه)|"
    r"جرعه زايده|جرعه مفرطه|اوفر ?دوز",
    "ar_danger": r"\b(انا|احنا|حياتي) (في|ب) ?خطر\b|\bخايف\w* (على|علي) حياتي|"
    r"\b(مش|مو|مب|لست|ما|غير) ?(حاسس|حاسه|اشعر)? ?(بالامان|امان|امنه|امن) (في|ب) ?(ال)?(بيت|بيتي)",
    "ar_threat_kill": r"\b(هو|هي|هم|ابوي|ابويه|ابي|بابا|بيي|امي|ماما|اخوي|اخي|عمي|خالي|واحد|شخص|حدا|حد|الرجال|"
    r"الراجل|الشب|زوج امي|جوز امي)\b.{0,15}(بدو|بده|رح|راح|ح|ه|سوف|سي|بي|عايز|يريد|يبي)? ?(يقتلني|يكتلني|"
    r"يذبحني|يموتني|هيقتلني|حيقتلني|سيقتلني|بيقتلني|بيذبحني)|يهددني ب(القتل|انه يقتلني)|هددني ب(القتل|انه يقتلني)|"
    r"خايف\w* (انه |انو |ليقتلني |يقتلني)",
    "ar_violence": r"\w*ضربني\b|\w*ضربوني\b|\w*عنفني\b|(يعتدي|اعتدي|اعتدا|بيعتدي) (علي|عليا)|"
    r"\w*تحرش (بي|فيني|فيا)|يلمسني|بيلمسني|يجبرني (على|علي) (الجنس|ممارسه|اشيا جنسيه|الممارسه)|غتصب",
    "ar_here_now": r"(برا|بره|برات|خارج|قدام|ورا) (ال)?باب|\bعند (ال)?باب|"
    r"(جاي|جايه|جايين|قادم|ات|في الطريق|بالطريق) (ل?عندي|لبيتي|الي بيتي|علي|لعندنا|الي|لي)\b|"
    r"حبسني|حابسني|قفل علي|قافل علي|محبوس|محبوسه|مسكر علي",
    "ar_emergency": r"\b(الحقوني|الحقني|النجده|انجدوني|طواري|اسعاف|الاسعاف)\b|اتصل\w* (بالشرطه|بالبوليس|بالاسعاف|ب ?112)",
    "ar_goodbye_letter": r"رساله (وداع|انتحار)|\b(كتبت|اكتب|بكتب) وصيتي",
    "ar_jump": r"(ارمي|برمي|نط|انط|بنط|اقفز|بقفز|انزل)\w* (نفسي |حالي |روحي )?(من|عن) ?(ال)?(سطح|بلكون|بلكونه|شباك|"
    r"جسر|كوبري|طابق|فوق|عماره|الدور)",
    "ar_scared_help": r"(ساعد|الحق|انجد)\w*.{0,25}\b(خايف|خايفه|مرعوب|مرعوبه)\b|\b(خايف|خايفه|مرعوب|مرعوبه)\b.{0,25}(ساعد|الحق|انجد)\w*",
    # Arabic in Latin letters (Arabizi): digits stand for letters (3 ع, 7 ح, 2 ء, 5 خ), spellings vary.
    "ar_latin_want_die": r"\b(bdi|bidi|biddi|badi|bde|beddi|bedi|3ayez|3ayza|3awez|3awza|3ayz|3aiz|ayez|abi|abgha|abga|"
    r"areed|arid|ariid|aree?d|oreed|orid|nifsi|nefsi|nfsi|wedi|widi|atmana)( (an|ena|enni|ani|2an|inni))? ?"
    r"(a|e|i|2a|2e)?(m[ou]{1,3}w?t)\b",
    "ar_latin_not_live": r"\b(ma|mesh|mish|msh|mush|mo|mu|la|mb)( 3ad)? ?(bdi|bidi|biddi|badi|3ayez|3ayza|3awez|3ayz|"
    r"ayez|abi|abgha|areed|arid|a2dar|2ader|2adra|qader|ader|adar|akdar)( (an|ena))? ?(a|e|2a)?(3ish|3eesh|3ich|"
    r"3eish|3ysh|eish|3ayesh|kammel|kamel|kml|kaml)\b",
    "ar_latin_kill_self": r"\b\w*(2tol|2atel|2tel|atel|atol|aktol|a2tol|qtol|qatel|ktil|2tl|mawet|mawwet|dba7|thba7|"
    r"zba7|jra7|jr7|2azi|2aze|aazi|2adi|shanne2)\w* (7ali|7aly|nafsi|nafsy|roo7i|rou7i|ro7i|rohi|hali|halee)\b",
    "ar_latin_suicide": r"\b\w*nt[aeiy][7h][aeiy]?r\w*",
    "ar_latin_nobody_miss": r"\b(ma|mafi|mfish|mfeesh|mafee|ma7ad|ma7ada|wala|la|mahad)\b.{0,25}(shta2l|shta2 l|shtaql|"
    r"fte2d|ft2d|ftekd|fta2d|fkedni|fqedni|ftaqed)",
    "ar_latin_here_now": r"\b(huwe|huwa|howa|hoe|hiye|hiya|heya|humme|homa)\b.{0,15}\b(barra|bara|5arej|kharej|"
    r"bel bab|3al bab|3end el bab|3and el bab|jay|jayi|gay|gayy|ja2i)\b",
    "ar_latin_violence": r"d[ae]?r[aou]?b(ni|oni|ouni)\b|\w*[gh8']tas[ae]?bni\b",
    "ar_latin_pills": r"\b(akhadt|a5adt|khadt|sharabt|bala3t|bl3t)\b.{0,20}\b(7ubub|7boob|hbob|7bob|7obob|bersham|"
    r"barsham|berchaam|dawa|adwiye|pills)",
}
# Overstatement about things, not people ("det här provet kommer döda mig", "jag skrattade ihjäl mig", "this
# test is gonna kill me"): the span is cut out before the patterns run, so the rest of the message is
# still checked ("provet kommer döda mig och jag vill dö" is a crisis). A person's threat ("pappa kommer
# döda mig") is never cut: the subject must be a thing.
_HYPERBOLE = re.compile(
    r"\b(det har |den har |detta |mitt |min )?(provet|proven|prov|testet|tentan|laxan|laxorna|laxa|matten|"
    r"matteprovet|mattelaxan|skolan|plugget|jobbet|traningen|veckan|dagen|tristessen|engelskan|svenskan)"
    r"( idag| imorgon| typ)? (kommer (att )?|ska |kmr )?(typ )?(doda|dodar|doder|ta livet av|tar livet av) (mig|mej)\b|"
    r"\b(do|dor|dog|doo|dott|dor ju|dog typ|dor typ|dog nastan|holl pa att do)( typ| nastan| ju)? (av|pa) "
    r"(skratt|tristess|tristes|pinsamhet|skam|hunger|trakighet)\b|"
    r"\b(skrattade|skrattar|skratta|skams|skammes|skamdes|trakas|frys|fryser) ihjal( mig| mej)?\b|"
    r"\b(this |the |my |that |these )?(test|exam|exams|homework|class|school|math|maths|quiz|assignment|essay|"
    r"week|day|game|level|teacher)( is| s| are)? (gonna |going to |will |literally )*(kill|killing) me\b|"
    r"\b(died|dying|die|dead)( of| from| laughing)? (laughing|laughter|embarrassment|boredom|cringe)\b|"
    r"\b(im|i m|i am) (so |literally )?dead (lol|lmao|lmfao|haha|xd)\b|\b(lol|lmao|lmfao|haha|xd) (im|i m) (so )?dead\b"
)
# Separate patterns: Python's re is slower on one big alternation of these than on the loop.
_COMPILED = [(name, re.compile(pattern)) for name, pattern in _PATTERNS.items()]
# Every pattern, and the hyperbole, has strings one of which each of its matches contains, read from its
# syntax (chatbot/nlu/literals.py): a message holding none of them cannot match the pattern, which is
# skipped (most of the check's time; the Arabic-script patterns are skipped for every Latin message). The
# patterns that may match run in their order, so the first rule that fires is the same.
_RULES = [*_COMPILED, ("", _HYPERBOLE)]
_HYPERBOLE_INDEX = len(_COMPILED)
_HYPERBOLE_BIT = 1 << _HYPERBOLE_INDEX
_PREFILTER = Prefilter([required(pattern.pattern) for _name, pattern in _RULES])

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


def _bigrams(word: str) -> set[str]:
    return set(map("".join, itertools.pairwise(word)))


@dataclass(frozen=True)
class CrisisCheck:
    """Whether a message is a crisis, and a reason code (a rule name, never the message text)."""

    crisis: bool
    reason: str = ""

    @property
    def language(self) -> str:
        """The language the rule that fired is written for ('sv', 'en', 'ar'), '' for the classifier."""
        prefix = self.reason.split("_", 1)[0]
        return prefix if prefix in CRISIS_LANGUAGES else ""


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

    def languages(self, text: str) -> list[str]:
        """Every language whose phrase patterns fire on `text`, in the order of the patterns. Runs all
        the patterns, so only for a message already found to be a crisis (to answer in its language)."""
        folded = normalise(text)
        found: list[str] = []
        for name, pattern in _COMPILED:
            language = name.split("_", 1)[0]
            if language not in found and pattern.search(folded):
                found.append(language)
        return found

    def check_text(self, text: str) -> CrisisCheck:
        """Patterns and keywords only (no classifier)."""
        folded = normalise(text)
        candidates = _PREFILTER.candidates(folded)
        if candidates & _HYPERBOLE_BIT and _PREFILTER.holds(_HYPERBOLE_INDEX, folded):
            cut = _HYPERBOLE.sub(" ", folded)
            if cut != folded:  # the cut can join letters that were apart: look again
                folded = cut
                candidates = _PREFILTER.candidates(folded)
        candidates &= _HYPERBOLE_BIT - 1
        while candidates:
            bit = candidates & -candidates
            k = bit.bit_length() - 1
            name, pattern = _RULES[k]
            if _PREFILTER.holds(k, folded) and pattern.search(folded):
                return CrisisCheck(True, name)
            candidates ^= bit
        for word in _WORD.findall(folded):
            reason = _keyword(word)
            if reason:
                return CrisisCheck(True, reason)
        return NOT_CRISIS


# Each keyword with its reason, allowed edits, letter pairs and the pairs a word within them must share:
# one edit changes at most three letter pairs, so a word sharing fewer pairs with a keyword cannot be
# within the allowed edits; the cheap set test spares most words the edit-distance loop.
_KEYWORD_RULES = [
    (keyword, reason, limit, pairs, len(pairs) - 3 * limit)
    for keyword, reason in _KEYWORDS.items()
    for limit in [2 if len(keyword) >= 9 else 1]
    for pairs in [frozenset(_bigrams(keyword))]
]
_KEYWORD_PREFIXES = tuple(_KEYWORDS)
# For a word of each length, the keywords (in order) it may be a misspelling of: within their edits.
_KEYWORDS_NEAR_LENGTH = {
    size: [rule for rule in _KEYWORD_RULES if abs(size - len(rule[0])) <= rule[2]]
    for size in range(6, max(map(len, _KEYWORDS)) + 3)
}


def _keyword(word: str) -> str:
    """The first keyword, in order, that starts the word or that it misspells; "" for none."""
    size = len(word)
    if size < 6:
        return ""
    # A word no keyword starts can only misspell one, and only one of a near length.
    rules = _KEYWORD_RULES if word.startswith(_KEYWORD_PREFIXES) else _KEYWORDS_NEAR_LENGTH.get(size, ())
    pairs: set[str] | None = None
    for keyword, reason, limit, keyword_pairs, shared in rules:
        # Longer forms count too: "sjalvmordet", "suicidala".
        if word.startswith(keyword):
            return reason
        if abs(size - len(keyword)) > limit:
            continue
        if pairs is None:
            pairs = _bigrams(word)
        if len(pairs & keyword_pairs) >= shared and _within(word, keyword, limit):
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
