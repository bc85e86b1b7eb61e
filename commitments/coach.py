"""The update coach: advice on a draft update before it reaches the customer.

Pure functions over text. The coach flags what the practice behind the product asks agents to
avoid: hedging ("maybe", "I think so"), apologies with an "if" or a "sorry you feel", blaming
someone else, the team's own jargon, an update that does not say when the customer hears from us
next, and a next contact later than the commitment's cadence allows. It advises; it never
blocks sending, so every rule leans towards precision: a false alarm teaches agents to ignore it.

Phrases are kept per language, for every language customers are written to (English, Spanish).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications import segments, time_words

LANGUAGES = ("en", "es")

HEDGING = "hedging"
CONDITIONAL_APOLOGY = "conditional_apology"
BLAME = "blame"
JARGON = "jargon"
NO_NEXT_CONTACT = "no_next_contact"
LATE_NEXT_CONTACT = "late_next_contact"
KINDS = (HEDGING, CONDITIONAL_APOLOGY, BLAME, JARGON, NO_NEXT_CONTACT, LATE_NEXT_CONTACT)


@dataclass(frozen=True)
class Warning:
    """One piece of advice: ``text[start:end]`` is what it is about."""

    kind: str
    text: str
    start: int
    end: int
    suggestion: str


@dataclass(frozen=True)
class Advice:
    warnings: list[Warning]
    sms_segments: int
    encoding: str
    sms_length: int


# --- Phrases, per language ----------------------------------------------------------------------


@dataclass(frozen=True)
class Phrases:
    hedging: tuple[str, ...]
    hedging_advice: str
    conditional_apology: tuple[str, ...]
    apology_advice: str
    blame: tuple[str, ...]
    blame_advice: str
    jargon_advice: str
    # Words that say the customer will hear from us again ("you will hear from us", "next update").
    next_contact: tuple[str, ...]
    no_next_contact_advice: str
    late_advice: str


# Patterns are regular expressions matched case-insensitively on word boundaries.
ENGLISH = Phrases(
    hedging=(
        r"maybe",
        r"perhaps",
        r"possibly",
        r"probably",
        r"hopefully",
        r"supposedly",
        r"apparently",
        r"allegedly",
        r"i think( so)?",
        r"i believe",
        r"i guess",
        r"i suppose",
        r"i hope",
        r"we hope",
        r"should be (?:ready|done|fixed|there|sorted|resolved|back|finished)",
        r"might",
        r"(?:i|we)(?:'ll| will)? try(?: to)?",
        r"fingers crossed",
        r"with any luck",
        r"in theory",
        r"if all goes well",
        r"(?:i'?m|we'?re|i am|we are) not (?:sure|certain)",
    ),
    hedging_advice="Say what you know and what you will do; if you do not know yet, say how you will find out.",
    conditional_apology=(
        r"(?:sorry|apologi[sz]e|apologies) if",
        r"(?:sorry|apologi[sz]e) (?:that )?you feel",
        r"sorry (?:that )?you(?:'re| are) (?:upset|unhappy|frustrated|disappointed)",
        r"sorry you see it that way",
        r"regret if",
        r"if (?:this|that|it) (?:has )?caused (?:you )?(?:any )?inconvenience",
        r"if you (?:were|have been|feel) inconvenienced",
        r"for any inconvenience (?:this|that|it) may have caused",
    ),
    apology_advice="Apologise for what happened, without “if”: “I am sorry we missed the time we gave you.”",
    blame=(
        r"not our fault",
        r"not my fault",
        r"(?:is|was|are|were) (?:the|their|our) (?:supplier|courier|warehouse|vendor|manufacturer|carrier)'?s? fault",
        r"(?:the|our) (?:supplier|courier|warehouse|vendor|manufacturer|carrier|other team|other department) "
        r"(?:messed up|dropped the ball|failed|screwed up)",
        r"(?:is|are) to blame",
        r"you should have",
        r"you (?:didn't|did not|failed to|forgot to|never) (?:send|sent|tell|told|reply|replied|give|gave|read|follow)",
        r"as (?:i|we) (?:already |previously )?(?:told|said|explained|mentioned)",
        r"as previously (?:stated|mentioned|explained)",
        r"(?:beyond|out of) our control",
        r"out of (?:our|my) hands",
        r"not (?:our|my) (?:responsibility|department|problem)",
        r"(?:that's|that is) (?:billing|shipping|the warehouse|another team)'?s? (?:job|problem)",
    ),
    blame_advice="Own it: say what we are doing about it, not whose fault it is.",
    jargon_advice="Use the plain word: “{plain}”.",
    next_contact=(
        r"hear (?:back )?from (?:us|me)",
        r"next update",
        r"(?:update|call|email|text|ring|phone|contact|write to) you",
        r"get back to you",
        r"be in touch",
        r"(?:keep|let) you (?:posted|informed|know)",
        r"follow up with you",
        r"check in with you",
        r"you(?:'ll| will) (?:get|have|receive) (?:an?|our|the) (?:update|answer|email|text|call|reply)",
    ),
    no_next_contact_advice="Tell the customer when they will hear from us next, e.g. “Next update by {when}.”",
    late_advice="The cadence has the next update due by {when}: promise that or sooner.",
)

SPANISH = Phrases(
    hedging=(
        r"quiz[aá]s?",
        r"tal vez",
        r"a lo mejor",
        r"probablemente",
        r"posiblemente",
        r"supuestamente",
        r"al parecer",
        r"en teor[ií]a",
        r"creo que",
        r"supongo que",
        r"espero que",
        r"esperemos que",
        r"ojal[aá]",
        r"deber[ií]a (?:estar|quedar|llegar)",
        r"intentar(?:é|emos)",
        r"no (?:estoy|estamos) segur[oa]s?",
        r"con suerte",
    ),
    hedging_advice="Diga lo que sabe y lo que hará; si aún no lo sabe, diga cómo lo va a averiguar.",
    conditional_apology=(
        r"(?:perd[oó]n|disculpe|disculpa|disculpas|lo siento|lo sentimos|lamento|lamentamos|sentimos) si",
        r"(?:siento|sentimos|lamento|lamentamos) que (?:se sienta|te sientas|usted se sienta|lo vea as[ií])",
        r"si (?:esto|eso) (?:le |te )?(?:ha )?causado (?:alguna )?molestia",
        r"por (?:cualquier|las) molestias? que (?:esto |eso )?(?:pueda|haya podido) (?:haber )?causar",
    ),
    apology_advice="Discúlpese por lo que pasó, sin «si»: «Siento que no cumpliéramos la hora que le dimos.»",
    blame=(
        r"no es (?:nuestra|mi) culpa",
        r"(?:es|fue) culpa de",
        r"usted (?:deber[ií]a haber|no (?:nos )?(?:envi[oó]|mand[oó]|dijo|hizo))",
        r"como ya le (?:dije|dijimos|expliqu[eé]|explicamos)",
        r"fuera de nuestro control",
        r"no depende de nosotros",
        r"no es (?:nuestra|mi) responsabilidad",
    ),
    blame_advice="Asuma el problema: diga qué estamos haciendo, no de quién es la culpa.",
    jargon_advice="Use la palabra sencilla: «{plain}».",
    next_contact=(
        r"(?:tendr[aá]|recibir[aá]) (?:noticias|nuestra respuesta|una actualizaci[oó]n)",
        r"pr[oó]xima actualizaci[oó]n",
        r"(?:le|te) (?:escribiremos|escribir[eé]|llamaremos|llamar[eé]|avisaremos|avisar[eé]|informaremos|"
        r"informar[eé]|contactaremos|contactar[eé]|actualizaremos|mantendremos informad[oa])",
        r"nos pondremos en contacto",
        r"me pondr[eé] en contacto",
        r"volveremos a (?:escribirle|llamarle|contactarle|escribirte|llamarte)",
        r"sabr[aá] de nosotros",
    ),
    no_next_contact_advice="Diga al cliente cuándo sabrá de nosotros, p. ej. «Próxima actualización: {when}».",
    late_advice="La cadencia pide la próxima actualización antes de {when}: prometa eso o antes.",
)

PHRASES: dict[str, Phrases] = {"en": ENGLISH, "es": SPANISH}


def _compiled(patterns: Iterable[str]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE)


_PATTERNS: dict[tuple[str, str], re.Pattern[str]] = {
    (language, kind): _compiled(getattr(phrases, kind))
    for language, phrases in PHRASES.items()
    for kind in ("hedging", "conditional_apology", "blame", "next_contact")
}


# --- Times the customer is promised -------------------------------------------------------------

_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "un": 1,
    "una": 1,
    "uno": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
}
_UNITS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "minuto": timedelta(minutes=1),
    "hora": timedelta(hours=1),
    "día": timedelta(days=1),
    "dia": timedelta(days=1),
    "semana": timedelta(weeks=1),
    "mes": timedelta(days=30),
}
_WEEKDAYS = {
    **{name: index for index, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday"))},
    "saturday": 5,
    "sunday": 6,
    "lunes": 0,
    "martes": 1,
    "miércoles": 2,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sábado": 5,
    "sabado": 5,
    "domingo": 6,
}
_MONTHS = {
    name: index + 1
    for index, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )
    )
} | {
    name: index + 1
    for index, name in enumerate(
        (
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        )
    )
}
_NUMBER = r"(?P<amount>\d+|" + "|".join(_NUMBERS) + r")"
_UNIT = r"(?P<unit>minute|hour|day|week|month|minuto|hora|d[ií]a|semana|mes)(?:s|es)?"
_WEEKDAY = r"(?P<weekday>" + "|".join(_WEEKDAYS) + r")"
_MONTH = r"(?P<month>" + "|".join(_MONTHS) + r")"
_MONTH1 = r"(?P<month1>" + "|".join(_MONTHS) + r")"
_MONTH2 = r"(?P<month2>" + "|".join(_MONTHS) + r")"
_TIME_EXPRESSIONS = re.compile(
    r"(?<!\w)(?:"
    r"(?:in|within|dentro de|en)\s+" + _NUMBER + r"\s+" + _UNIT + r"|"
    r"(?P<after_tomorrow>the day after tomorrow|pasado mañana)|"
    r"(?P<tomorrow>tomorrow|mañana(?<!la mañana))|"
    r"(?P<next_week>next week|la (?:pr[oó]xima semana|semana que viene))|"
    r"(?P<next_month>next month|el (?:pr[oó]ximo mes|mes que viene))|"
    r"(?:(?:on|by|el)\s+)?(?:" + _WEEKDAY.replace("weekday>", "dated_weekday>") + r",?\s+)?"
    r"(?:(?P<day1>\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+)?"
    + _MONTH1
    + r"|"
    + _MONTH2
    + r"\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?)(?:,?\s+(?:de\s+)?(?P<year>\d{4}))?|"
    r"(?:(?:on|by|this|next|el|este|el pr[oó]ximo)\s+)" + _WEEKDAY + r"|"
    r"(?P<today>today|tonight|this (?:afternoon|evening|morning)|hoy|esta (?:tarde|noche))"
    r")(?!\w)",
    re.IGNORECASE,
)
# A clock time right after a day: "tomorrow at 3 PM", "el lunes a las 15:00".
_CLOCK = re.compile(
    r",?\s*(?:at|by|before|a las|antes de las|sobre las)?\s*"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<meridiem>[ap]m|[ap]\.m\.)?(?!\w)",
    re.IGNORECASE,
)
# When a day is named without a time, the customer expects to hear from us that working day:
# the coach reads the earliest plausible time, so that it only warns when even that is too late.
START_OF_DAY = time(9, 0)


def _at(day: date, match: re.Match[str] | None, zone: ZoneInfo) -> datetime:
    moment = START_OF_DAY
    if match is not None:
        hour = int(match.group("hour"))
        minute = int(match.group("minute") or 0)
        meridiem = (match.group("meridiem") or "").lower().replace(".", "")
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
        if hour < 24 and minute < 60:
            moment = time(hour, minute)
    return datetime.combine(day, moment, tzinfo=zone)


def promised_times(text: str, *, now: datetime, zone: ZoneInfo) -> list[tuple[int, int, datetime]]:
    """The times ``text`` names (``in 2 days``, ``tomorrow``, ``Friday 4 December at 3:00 PM``), with their spans."""
    today = now.astimezone(zone).date()
    found: list[tuple[int, int, datetime]] = []
    for found_day in _TIME_EXPRESSIONS.finditer(text):
        groups = found_day.groupdict()
        clock = _CLOCK.match(text, found_day.end())
        if clock is not None and not (clock.group("meridiem") or clock.group("minute")):
            clock = None  # "tomorrow 2 parts arrive": a number, not a time
        match = clock
        end = clock.end() if clock is not None else found_day.end()
        moment: datetime | None = None
        if groups["amount"]:
            amount = groups["amount"].lower()
            count = int(amount) if amount.isdigit() else _NUMBERS[amount]
            unit = groups["unit"].lower().replace("í", "i")
            unit = unit[:-2] if unit.endswith("es") and unit[:-2] in _UNITS else unit.rstrip("s")
            moment = now + count * _UNITS.get(unit, _UNITS.get(unit.replace("i", "í"), timedelta(days=1)))
        elif groups["after_tomorrow"]:
            moment = _at(today + timedelta(days=2), match, zone)
        elif groups["tomorrow"]:
            moment = _at(today + timedelta(days=1), match, zone)
        elif groups["next_week"]:
            moment = _at(today + timedelta(days=7 - today.weekday()), None, zone)
        elif groups["next_month"]:
            first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            moment = _at(first, None, zone)
        elif groups["month1"] or groups["month2"]:
            month = _MONTHS[(groups["month1"] or groups["month2"]).lower()]
            day_number = int(groups["day1"] or groups["day2"])
            year = int(groups["year"]) if groups["year"] else today.year
            try:
                day = date(year, month, day_number)
            except ValueError:
                continue
            if not groups["year"] and day < today - timedelta(days=180):
                day = day.replace(year=year + 1)
            moment = _at(day, match, zone)
        elif groups["weekday"]:
            ahead = (_WEEKDAYS[groups["weekday"].lower()] - today.weekday()) % 7 or 7
            moment = _at(today + timedelta(days=ahead), match, zone)
        elif groups["today"]:
            moment = _at(today, match, zone)
        if moment is not None:
            found.append((found_day.start(), end, moment))
    return found


# --- The coach ----------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)", re.MULTILINE)


def _languages(language: str | None) -> list[str]:
    return [language] if language in PHRASES else list(LANGUAGES)


def _matches(pattern: re.Pattern[str], text: str) -> Iterable[re.Match[str]]:
    return pattern.finditer(text)


def jargon_pattern(glossary: Mapping[str, str]) -> re.Pattern[str] | None:
    terms = sorted((term for term in glossary if term.strip()), key=len, reverse=True)
    if not terms:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(term.strip()) for term in terms) + r")(?!\w)", re.IGNORECASE)


def coach(
    text: str,
    *,
    language: str | None = None,
    glossary: Mapping[str, str] | None = None,
    next_contact_by: datetime | None = None,
    zone: ZoneInfo | None = None,
    now: datetime | None = None,
) -> Advice:
    """Advice on a draft update.

    ``language`` chooses the phrases (every language's when None); ``glossary`` maps the team's
    jargon to plain words; ``next_contact_by`` is the latest next contact the commitment's cadence
    allows (no lateness check without it), read in the customer's ``zone``.
    """
    zone = zone or ZoneInfo("UTC")
    now = now or datetime.now(tz=zone)
    languages = _languages(language)
    warnings: list[Warning] = []

    def flag(kind: str, start: int, end: int, suggestion: str) -> None:
        warnings.append(Warning(kind=kind, text=text[start:end], start=start, end=end, suggestion=suggestion))

    for code in languages:
        phrases = PHRASES[code]
        for kind, advice in (
            ("hedging", phrases.hedging_advice),
            ("conditional_apology", phrases.apology_advice),
            ("blame", phrases.blame_advice),
        ):
            for match in _matches(_PATTERNS[(code, kind)], text):
                flag(kind, match.start(), match.end(), advice)

    terms = {term.strip().lower(): plain for term, plain in (glossary or {}).items() if term.strip()}
    pattern = jargon_pattern(glossary or {})
    if pattern is not None:
        advice = PHRASES[languages[0]].jargon_advice
        for match in pattern.finditer(text):
            flag(JARGON, match.start(), match.end(), advice.format(plain=terms.get(match.group().lower(), "")))

    if text.strip():
        _check_next_contact(text, languages, flag, next_contact_by=next_contact_by, zone=zone, now=now)

    warnings.sort(key=lambda warning: (warning.start, warning.end, warning.kind))
    sent = segments.gsm_friendly(text)
    length, encoding = segments.sms_length(sent)
    return Advice(
        warnings=_without_overlaps(warnings),
        sms_segments=segments.sms_segments(sent) if sent else 0,
        encoding=encoding,
        sms_length=length,
    )


def _without_overlaps(warnings: list[Warning]) -> list[Warning]:
    """One warning per words: "I think so" is one hedge, not "I think" and "I think so"."""
    kept: list[Warning] = []
    for warning in warnings:
        if any(
            other.kind == warning.kind and other.start <= warning.start and warning.end <= other.end for other in kept
        ):
            continue
        kept = [
            other
            for other in kept
            if not (other.kind == warning.kind and warning.start <= other.start and other.end <= warning.end)
        ]
        kept.append(warning)
    return kept


def _check_next_contact(
    text: str,
    languages: list[str],
    flag: Callable[[str, int, int, str], None],
    *,
    next_contact_by: datetime | None,
    zone: ZoneInfo,
    now: datetime,
) -> None:
    code = languages[0]
    when = time_words.short_time(next_contact_by, zone) if next_contact_by else _next_contact_example(code)
    contact_sentences: list[tuple[int, int]] = []
    for sentence in _SENTENCE.finditer(text):
        body = sentence.group()
        if any(_PATTERNS[(language, "next_contact")].search(body) for language in languages):
            contact_sentences.append((sentence.start(), sentence.end()))
    if not contact_sentences:
        # Point at the end of the text: that is where the missing sentence goes.
        end = len(text.rstrip())
        start = max(0, end - 1)
        flag(NO_NEXT_CONTACT, start, end, PHRASES[code].no_next_contact_advice.format(when=when))
        return
    if next_contact_by is None:
        return
    for start, end in contact_sentences:
        for time_start, time_end, moment in promised_times(text[start:end], now=now, zone=zone):
            if moment > next_contact_by:
                flag(
                    LATE_NEXT_CONTACT,
                    start + time_start,
                    start + time_end,
                    PHRASES[code].late_advice.format(when=when),
                )


def _next_contact_example(language: str) -> str:
    return "tomorrow at 10:00" if language == "en" else "mañana a las 10:00"
