"""What a question asks for and about whom: the checks an embedding cannot make.

Two questions on the same topic embed close together even when one asks *when* and the
other *how much*, or one is about Owen and the other about Keiko. `answer_kind` names
the kind of answer asked for (time, place, person, amount, yes/no...) from the question
words and the nouns that stand for them ("venue", "date", "rate"); `names` picks out the
proper names a question is about. `recall.matching` uses both as vetoes on top of
embedding similarity.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.text.words import plain

#: (pattern, kind); the match that starts first in the question wins ("Where did they
#: stay when they visited?" asks for a place), ties in this order. Patterns see the
#: lower-cased, plain question.
_KINDS: tuple[tuple[str, str], ...] = (
    (r"^(is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall)\b"
     r"|\b(still|yet)\b.*\?\s*$", "yes-no"),
    (r"\bhow much\b|\bhow heavy\b|\bhow many\b|\bcost\b|\bprice\b|\bbudget\b|\bamount\b"
     r"|\brate\b|\bbill\b|\bpremium\b|\bweigh|\bcome to\b|\bsavings?\b|\bcharge|\bpay\b"
     r"|\bfee\b|\btotal\b|\bhow (old|tall|far|big)\b|\bage\b", "amount"),
    (r"\bwhen\b|\bwhat (time|date|day|evening|morning|night|week|month|year|weekend)\b"
     r"|\bwhich (day|date|evening|morning|night|week|month|year|weekend)\b|\bdate\b"
     r"|\bhow soon\b|\bhow long\b|\bfirst day\b|\bfinal week\b|^\S+ b(irth)?day\?$"
     r"|\bwhat year\b|\bdeadline\b|\bdue\b", "time"),
    (r"\bwhere\b|\blocation\b|\bvenue\b|\bdestination\b|\baddress\b|\brestaurant\b"
     r"|\bhotel\b|\bwhich (part|city|town|country|church|pub|place|street|area)\b"
     r"|\bneighbou?rhood\b", "place"),
    (r"\bwho(m|se)?\b|\bguests\b"
     r"|\bwhich (doctor|person|friend|company|firm|dentist|vet|teacher)\b", "person"),
)
#: "name of ..." asks for a person unless the rest says otherwise ("name of the hotel").
_NAMED = re.compile(r"\bname of\b|\bnamed\b|\bcalled what\b|'s name\b")

#: The verbs a request to the assistant opens with ("Write an essay about Rome", "List
#: ten fruits"): never a name, and never a fact about the person's life (`is_request`).
#: Verbs that also open a person's own plans and reminders ("Make sure Biscuit has his
#: booster", "Plan is to drive on the 27th") are only kept out of `names`.
REQUEST_VERBS = frozenset([
    "write", "rewrite", "list", "explain", "describe", "summarise", "summarize",
    "translate", "create", "compose", "draft", "compare", "suggest", "recommend",
    "calculate", "define", "generate", "convert", "solve", "imagine", "pretend", "tell",
])
#: What follows a request's verb: who it is for, or what to make ("Write a poem").
_REQUEST_OBJECTS = frozenset([
    "me", "us", "a", "an", "some", "the", "one", "two", "three", "four", "five", "ten",
    "twenty", "fifty", "hundred", "every", "all", "how", "what", "why", "about", "in",
    "into", "this", "that", "these", "those", "my",
])
#: Capitalised words that begin questions or are not names.
_NOT_NAMES = frozenset([
    "i", "what", "when", "where", "who", "whom", "whose", "which", "why", "how", "is",
    "are", "was", "were", "do", "does", "did", "can", "could", "will", "would", "should",
    "the", "a", "an", "my", "our", "your", "has", "have", "had", "tell", "name", "final",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "christmas", "easter", "mr", "mrs",
    "ms", "dr",
    # what a question may open with ("So how much ...?", "Remind me, when ...?")
    "so", "ok", "okay", "oh", "hey", "hi", "please", "remind", "roughly", "quick", "also",
    "and", "but", "well", "actually", "btw", "um", "sorry", "wait",
    "give", "show", "make", "help", "find", "plan", "check", "correct", "count", "let",
]) | REQUEST_VERBS
_WORD = re.compile(r"[^\W\d_][\w'\u2019.-]*")


def answer_kind(question: str) -> str | None:
    """The kind of answer ``question`` asks for: ``time``, ``place``, ``person``,
    ``amount``, ``yes-no``, or None when the wording does not say
    (``what ...``)."""
    lowered = plain(question).lower().replace("\u2019", "'").strip()
    first: tuple[int, str] | None = None
    for pattern, kind in _KINDS:
        found = re.search(pattern, lowered)
        if found is not None and (first is None or found.start() < first[0]):
            first = (found.start(), kind)
    if first is not None:
        return first[1]
    return "person" if _NAMED.search(lowered) else None


_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(am|pm)\b")
_CALENDAR = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                       r"january|february|march|april|may|june|july|august|september|"
                       r"october|november|december|today|tomorrow|tonight|weekend|"
                       r"mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays)\b")
_NUMBER = re.compile(r"(?<![\w.])[£$€]?\d[\d,]*(\.\d+)?(?![\w.])|[£$€]\s*\d")


def value_kind(answer: str) -> str | None:
    """What kind of value an answer gives, where its text shows it: ``time`` (a weekday,
    a month or a clock time), ``amount`` (a number or a price), else None ("cetirizine",
    "Gerald")."""
    lowered = plain(answer).lower()
    if _CLOCK.search(lowered) or _CALENDAR.search(lowered):
        return "time"
    return "amount" if _NUMBER.search(lowered) else None


_WANTS_CLOCK = re.compile(r"\bwhat time\b|\bhow early\b|\bwhat hour\b|\bat what time\b")
_WHAT_THING = re.compile(r"^(what|which)\b|^what's\b")


def wants_clock(question: str) -> bool:
    """Whether ``question`` asks for a time of day ("What time does our flight leave?"):
    a date alone does not answer it."""
    return _WANTS_CLOCK.search(plain(question).lower()) is not None


_TIME_WORDS = re.compile(r"\b(ago|since|until|till|left|yet|still|anymore|age|old|now|"
                         r"current(ly)?|latest|recent(ly)?|last|next|this|soon|due|"
                         r"expired?|expires|yesterday|hours?|minutes?|days?|weeks?|"
                         r"months?|years?)\b")


def concerns_time(question: str) -> bool:
    """Whether today's date could bear on the answer: the question asks when, how long,
    how old or about a day ("What day is it?", "How many weeks until the wedding?",
    "Is the passport still valid?"), not a timeless fact ("What is the capital of
    France?")."""
    lowered = plain(question).lower()
    return (answer_kind(question) == "time" or _CALENDAR.search(lowered) is not None
            or _TIME_WORDS.search(lowered) is not None)


_ABOUT_THE_PERSON = re.compile(
    r"\b(my|our|mine|ours|myself|ourselves)\b"
    r"|\b(did|do|does|was|were|had|have|am|are|will|would) (i|we)\b")
#: Asking what to do, not what happened: "How do I reset my password?", "What should I
#: cook?", "Can we take the dog on the train?".
_ADVICE = re.compile(r"\bhow (do|can|should|could|would|might|to)\b|\bhow to\b"
                     r"|\b(should|can|could|must|may) (i|we)\b"
                     r"|\b(are|am) (i|we) (supposed|meant|allowed|able) to\b")
_POSSESSIVE = re.compile(r"([^\W\d_][\w.-]*)['\u2019]s\b")


def about_the_person(question: str) -> bool:
    """Whether ``question`` asks about the person's own life, which only their chats and
    notes can answer ("When is my dentist appointment?", "Where did we go last
    summer?", "Where do I work?"), not about the world or what to do ("How do I reset
    my password?", "What is the capital of France?")."""
    lowered = plain(question).lower().replace("\u2019", "'")
    return (_ABOUT_THE_PERSON.search(lowered) is not None
            and _ADVICE.search(lowered) is None)


def names_someone(question: str) -> bool:
    """Whether ``question`` asks about something of a named someone ("What is Owen's
    blood type?", "Keiko's birthday?"): most likely someone in the person's life (and
    "France's capital" is taken for one too)."""
    named = names(question)
    return any(m.group(1).lower() in named for m in _POSSESSIVE.finditer(plain(question)))


_MONEY_WORDS = re.compile(r"\b(cost|costs|price|paid|pay|pays|spend|spent|charge|charges|"
                          r"fee|fees|bill|premium|rent|salary|budget|owe|lend|borrow|"
                          r"deposit|fare|ticket|worth|dear|expensive)\b|\bhow much\b.*"
                          r"\b(give|gave|given|save|saved|raise|raised|earn|earned|earns)\b"
                          r"|^how much (is|are|was|were|will)\b|^how much's\b")
_NOT_MONEY = re.compile(r"\bhow (many|old|tall|far|big|long|heavy)\b|\bweigh")


def wants_money(question: str) -> bool:
    """Whether ``question`` asks for an amount that is a sum of money ("How much does
    the pottery course cost?", "How much is our rent?"), not another amount ("How many
    came?", "How old is Keiko?", "How much does Biscuit weigh?"); "What's the rent?",
    which does not say it wants an amount, is not one."""
    lowered = plain(question).lower().replace("\u2019", "'")
    return (answer_kind(question) == "amount" and _NOT_MONEY.search(lowered) is None
            and _MONEY_WORDS.search(lowered) is not None)


_MONEY = re.compile(
    r"[£$€]\s?\d|(?<![\w,.])\d[\d,.]*+\s?(?:k\b\s?)?(?:[£$€]|(?:pounds?|quid|euros?|dollars?|pence|"
    r"gbp|eur|usd)\b)|\b(?:gbp|eur|usd)\s?\d"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand)\s+(?:pounds|quid|euros|dollars)\b",
    re.IGNORECASE)


def shows_money(text: str) -> bool:
    """Whether ``text`` states a sum of money ("£1,150", "40 euros")."""
    return _MONEY.search(plain(text)) is not None


_AGE_ASKED = re.compile(r"\bhow old\b|\bwhat age\b|\bage of\b|'s age\b")
_NUMBER_WORD = (r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                r"\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)")
_AGE = re.compile(rf"\b{_NUMBER_WORD}(?:[- ]\w+)?[- ]years?[- ]old\b|\baged?\s+\d+"
                  rf"|\bturn(?:s|ed|ing)?\s+{_NUMBER_WORD}\b|\b\d+(?:st|nd|rd|th)\s+birthday"
                  r"|(?:\b(?:be|is|was)|['\u2019]s)\s+\d{1,3}\b(?!\s*(?:am|pm|%|:|[.,]\d))",
                  re.IGNORECASE)


def wants_age(question: str) -> bool:
    """Whether ``question`` asks how old someone or something is."""
    return _AGE_ASKED.search(plain(question).lower().replace("\u2019", "'")) is not None


def shows_age(text: str) -> bool:
    """Whether ``text`` states an age ("six years old", "he'll be 34", "turns 30")."""
    return _AGE.search(plain(text)) is not None


def shows_day(answer: str) -> bool:
    """Whether ``answer`` names a day, a date or a month ("Wednesday", "25 November",
    "the 23rd", "today"), not only a time of day ("at 17:00")."""
    lowered = _CLOCK.sub(" ", plain(answer).lower())
    return _CALENDAR.search(lowered) is not None or re.search(
        r"\b\d{1,2}(st|nd|rd|th)\b|\b\d{1,2}/\d{1,2}\b|\b\d{4}-\d{2}-\d{2}\b",
        lowered) is not None


def shows_clock(answer: str) -> bool:
    """Whether ``answer`` gives a time of day ("07:15", "7pm")."""
    return _CLOCK.search(plain(answer).lower()) is not None


def asks_for_a_thing(question: str) -> bool:
    """A "What ...?" or "Which ...?" question that `answer_kind` cannot place ("What book
    is the book club reading?"): it wants a thing, never a date, whatever its topic."""
    lowered = plain(question).lower().strip(" ?!.")
    return (answer_kind(question) is None and _WHAT_THING.search(lowered) is not None
            and not lowered.endswith(" called"))


def kinds_agree(a: str, b: str) -> bool:
    """False only when both questions say which kind of answer they want and differ."""
    ka, kb = answer_kind(a), answer_kind(b)
    return ka is None or kb is None or ka == kb


_PAST = re.compile(r"\b(was|were|did|had|ago|used to)\b")
_NOT_PAST = re.compile(r"\b(is|are|does|do|will|next|upcoming|coming|going to)\b")


def tense(question: str) -> str | None:
    """``past`` or ``now`` (present or future) from the question's first auxiliary verb or
    time word, or None when it has none ("due date of my plan")."""
    lowered = plain(question).lower()
    past, now = _PAST.search(lowered), _NOT_PAST.search(lowered)
    if past and (not now or past.start() < now.start()):
        return "past"
    return "now" if now else None


def tenses_agree(a: str, b: str) -> bool:
    """False only when one question asks about the past and the other about now or later
    ("When was my check-up?" is not "When is my next check-up?")."""
    ta, tb = tense(a), tense(b)
    return ta is None or tb is None or ta == tb


#: With `_CALENDAR` and a digit: what makes a sentence worth keeping even when it opens
#: like a request ("Write a toast for Tom's wedding on 14 June", "List price was 30,000
#: euros").
_PERIOD = re.compile(r"\b(?:yesterday|week|month|year)\b")


def is_request(sentence: str) -> bool:
    """Whether ``sentence`` only asks the assistant to do something ("Write a poem about
    the sea.", "Please list ten fruits", "Tell me about Einstein's theory"): it opens
    with a `REQUEST_VERBS` verb (after an optional "please"), says "me" or "us" or names
    what to make with "a", "an", "some" or a number word, and states no date or number
    ("Write a toast for Tom's wedding on 14 June" is kept: the wedding's date is news;
    "Imagine Dragons tickets are booked" and "Tell you what, the wedding moved" are not
    requests)."""
    words = [w.lower() for w in _WORD.findall(plain(sentence))[:3]]
    if words[:1] == ["please"]:
        words = words[1:]
    lowered = plain(sentence).lower()
    return (len(words) >= 2 and words[0] in REQUEST_VERBS and words[1] in _REQUEST_OBJECTS
            and not any(c.isdigit() for c in lowered)
            and _CALENDAR.search(lowered) is None and _PERIOD.search(lowered) is None)



def names(question: str) -> frozenset[str]:
    """The proper names in ``question`` (capitalised words that are not question words,
    days, months or titles), lower-cased, possessive "'s" removed."""
    out = set()
    for word in _WORD.findall(plain(question)):
        word = re.sub(r"['\u2019]s$", "", word).strip(".'-")
        if word[:1].isupper() and word.lower() not in _NOT_NAMES:
            out.add(word.lower())
    return frozenset(out)


def mentions(text: str) -> frozenset[str]:
    """Every word of ``text`` as `names` would spell it (lower-cased, possessive "'s"
    removed), capitalised or not: what a name in a question is looked up in."""
    return frozenset(re.sub(r"['\u2019]s$", "", word).strip(".'-").lower()
                     for word in _WORD.findall(plain(text)))


def names_agree(a: str, b: str) -> bool:
    """False when both questions name someone or something and share no name (a
    question about Keiko is not a question about Owen)."""
    na, nb = names(a), names(b)
    return not na or not nb or bool(na & nb)


_KEY_SPACE = re.compile(r"\s+")
_KEY_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
#: Closing (and opening) marks that do not change what is asked.
_KEY_EDGES = " \t\n?!.\u00bf\u00a1\"'\u201c\u201d"


def question_key(question: str) -> str:
    """The normalised form under which a prepared question is stored and looked up
    (``anticipation.question_key``, indexed): two questions with the same key differ only
    in letter case, spacing, curly against straight apostrophes, Unicode compatibility
    forms (NFKC) and the marks around them ("?", "!", ".", quotes). Anything else, word
    order included, gives another key; matching by meaning covers the rest. Plain
    ``sqlite3`` callers compute it with this function and compare with ``=``."""
    text = unicodedata.normalize("NFKC", question).translate(_KEY_APOSTROPHES).casefold()
    return _KEY_SPACE.sub(" ", text).strip(_KEY_EDGES)
