"""A message to a customer as a text: one GSM-7 friendly line of at most two segments, link kept."""

from notifications.segments import gsm_friendly, segment_limit, shorten, sms_length
from notifications.time_words import in_language
from notifications.wording.frames import sms_frame
from notifications.wording.templates import render_blocks
from notifications.wording.words import Words

# The free text a long message gives up first, in this order; never the link or the times.
SHORTENED_FIRST = ("message", "reason", "request", "waiting_request", "resolution", "summary")


def fit_sms(template: str, words: Words, *, language: str | None = None) -> str:
    """The text block as one GSM-7 friendly line of at most two segments, status link kept."""
    frame = sms_frame(template, words)
    names = frame.names if frame else words.names
    said = {name: gsm_friendly(words[name]) for name in names}

    def write() -> str:
        if frame:
            return frame.text.format_map(said)
        with in_language(words.language):
            return gsm_friendly(render_blocks(template, {**words.structure, **said}, ("sms",))["sms"])

    text = write()
    for name in SHORTENED_FIRST:
        length, encoding = sms_length(text, language=language)
        excess = length - segment_limit(encoding)
        if excess <= 0:
            break
        if said.get(name) and said[name] in text:
            said[name] = shorten(said[name], excess)
            text = write()
    link = said.get("status_url") or gsm_friendly(words["status_url"])
    if link not in text:  # Every message to a customer carries the link.
        text = f"{text} {link}"
    return text
