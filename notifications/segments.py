"""Texts measured as carriers bill them: GSM-7 or UCS-2, segments, and shortening a text to fit."""

import math
import re

# Two concatenated segments: 2 x 153 GSM-7 characters, or 2 x 67 UCS-2 code units.
SMS_SEGMENTS = 2

# --- Texts: GSM-7 and segments ----------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
# Typography that agents' keyboards put in, written the GSM-7 way so a text stays cheap.
GSM7_LOOKALIKES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "′": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "″": '"',
        "–": "-",
        "—": "-",
        "‒": "-",
        "−": "-",
        "…": "...",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "•": "-",
        "·": "-",
        "\t": " ",
    }
)


GSM7 = GSM7_BASIC | GSM7_EXTENDED


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


# 3GPP TS 23.038 A.2.2: the Spanish national language single shift table. Announced in the
# message's user data header (3 octets), it puts the accented vowels Spanish needs behind the
# escape, as the default extension table puts ``€``: a text in Spanish stays GSM-7 at two septets
# for an ``á`` instead of turning the whole text into UCS-2 (70 characters a segment).
GSM7_SPANISH_SHIFT = frozenset("çÁÍÓÚáíóú") | GSM7_EXTENDED
GSM7_SPANISH = GSM7_BASIC | GSM7_SPANISH_SHIFT
SPANISH_SHIFT = "GSM-7 Spanish"
# Septets (or UCS-2 units) in one text alone, and in each part of a concatenated one. The shift
# table's header takes 5 septets of a single text and, beside the concatenation header, 4 of a part.
SEGMENT_SIZES = {"GSM-7": (160, 153), SPANISH_SHIFT: (155, 149), "UCS-2": (70, 67)}


def sms_length(text: str, *, language: str | None = None) -> tuple[int, str]:
    """How long a text is in its encoding's units, and the encoding (``GSM-7`` or ``UCS-2``).

    With ``language`` Spanish (``es``, ``es-MX``), a text that needs the Spanish single shift
    table is ``GSM-7 Spanish``; without it, the count is the default alphabet's, as it always was.
    """
    if is_gsm7(text):
        # An extended character (``€``, ``[``) takes an escape and itself: two units.
        return len(text) + sum(text.count(char) for char in GSM7_EXTENDED), "GSM-7"
    if language and language.split("-")[0].lower() == "es" and GSM7_SPANISH.issuperset(text):
        return len(text) + sum(1 for char in text if char in GSM7_SPANISH_SHIFT), SPANISH_SHIFT
    return len(text.encode("utf-16-le")) // 2, "UCS-2"


def text_length(text: str, *, language: str | None = None) -> int:
    """How long a text is in its encoding's units (septets, or UCS-2 code units)."""
    return sms_length(text, language=language)[0]


def sms_encoding(text: str, *, language: str | None = None) -> str:
    return sms_length(text, language=language)[1]


def sms_segments(text: str, *, language: str | None = None) -> int:
    length, encoding = sms_length(text, language=language)
    single, part = SEGMENT_SIZES[encoding]
    return 1 if length <= single else math.ceil(length / part)


def sms_limit(text: str, *, language: str | None = None) -> int:
    _, encoding = sms_length(text, language=language)
    return segment_limit(encoding)


def segment_limit(encoding: str) -> int:
    """The most a text may take in ``encoding``'s units: ``SMS_SEGMENTS`` parts."""
    return SMS_SEGMENTS * SEGMENT_SIZES[encoding][1]


_SPACES = re.compile(r"\s+")


def gsm_friendly(text: str) -> str:
    """One line of plain text, smart punctuation written the GSM-7 way."""
    if text.isascii() and text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text  # Printable ASCII with single spaces inside: nothing to change (the usual case).
    return _SPACES.sub(" ", text.translate(GSM7_LOOKALIKES)).strip()


def shorten(text: str, excess: int) -> str:
    """``text`` less ``excess`` characters (and a few more for the ``...``), cut at a word."""
    keep = max(0, len(text) - excess - 3)
    if keep == 0:
        return ""
    cut = text[:keep]
    if " " in cut[keep // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.") + "..."
