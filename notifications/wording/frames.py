"""Frames: each message template rendered once per shape, then filled in per message.

A sweep writes thousands of messages that differ only in their words (names, times, links), not
in their shape (which ``{% if %}`` branches hold). So each template is rendered once per shape
(``_shape``: the template, the structure, which words are empty, the language) with markers in
place of the words, and kept as a format string; each message then fills in only the words its
frame names (``str.format_map``). A template whose markers do not come through intact (a filter
that changed a word) is simply rendered directly every time (``render_directly``), and both ways
write the same text to the byte (tests/notifications/test_wording.py compares them). Only making
a frame (or rendering directly) needs the words' language active: filling one in does not.

Why not render every message through Django's templates (cached loader)? A sweep's rendering is
most of its time besides its UPDATE, and ``benchmarks/rendering_benchmark.py`` (5,000 status
updates in English and Spanish, emails and texts) measured frames at about 70 CPU µs a message
against about 330 through Django's templates: 4.4-4.7x as fast (docs/benchmarks.md).
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from notifications.segments import gsm_friendly
from notifications.time_words import in_language
from notifications.wording.content import SUBJECT_LIMIT, Content
from notifications.wording.html import email_layout, html_words
from notifications.wording.templates import compiled, render_blocks, render_text, tidy
from notifications.wording.words import Words

# A word's place in a rendered frame: control characters no template or word contains.
_MARK = re.compile("\x02([a-z_]+)\x03")
_BODY = "\x02body\x03"
# Shapes are few (kinds x statuses x languages x empty words, and teams' own templates); should
# they grow past this, the frames are dropped and made again as messages need them.
_FRAME_LIMIT = 2000


@dataclass(frozen=True)
class _Frame:
    """Format strings: the subject, and the text as what comes before, in and after the body."""

    subject: str
    head: str
    body: str
    tail: str


_frames: dict[tuple[Any, ...], _Frame | None] = {}


def _shape(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two messages render alike but for their words: the key of their frame."""
    return (
        form,
        template,
        id(compiled(template)),  # A template edited (in development) is compiled again: new frames.
        tuple(structure.items()),
        words.names,
        words.empty(),
        words.language,  # The same shape reads differently in each language.
    )


def _marked(words: Words, structure: Mapping[str, Any]) -> dict[str, Any]:
    empty = set(words.empty())
    return {**structure, **{name: "" if name in empty else f"\x02{name}\x03" for name in words.names}}


def _as_format(rendered: str, names: Iterable[str]) -> str | None:
    """The rendered text as a format string (``{summary}`` where a word goes), or None if a marker broke."""
    known = set(names)
    parts = _MARK.split(rendered)
    for index in range(0, len(parts), 2):
        literal = parts[index]
        if "\x02" in literal or "\x03" in literal:
            return None
        parts[index] = literal.replace("{", "{{").replace("}", "}}")
    for index in range(1, len(parts), 2):
        if parts[index] not in known:
            return None
        parts[index] = f"{{{parts[index]}}}"
    return "".join(parts)


def _around_body(form: str, context: Mapping[str, Any]) -> tuple[str, str] | None:
    """The email's text layout (``notifications/email/<form>.txt``) as what comes before and after the body."""
    text = tidy(render_text(f"notifications/email/{form}.txt", {**context, "body": _BODY}))
    head, found, tail = text.partition(_BODY)
    return (head, tail) if found and _BODY not in tail else None


def _build_frame(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> _Frame | None:
    marked = _marked(words, structure)
    parts = render_blocks(template, marked, ("subject", "body"))
    subject, body = _as_format(parts["subject"], words.names), _as_format(tidy(parts["body"]), words.names)
    head: str | None = ""
    tail: str | None = ""
    if form != "script":
        around = _around_body(form, marked)
        if around is None:
            return None
        head, tail = _as_format(around[0], words.names), _as_format(around[1], words.names)
    if subject is None or head is None or tail is None or not body:
        return None
    return _Frame(subject, head, body, tail)


def _frame(form: str, template: str, words: Words, structure: Mapping[str, Any]) -> _Frame | None:
    key = _shape(form, template, words, structure)
    try:
        return _frames[key]
    except KeyError:
        pass
    if len(_frames) >= _FRAME_LIMIT:
        _frames.clear()
    with in_language(words.language):
        frame = _frames[key] = _build_frame(form, template, words, structure)
    return frame


def compose(
    form: str, template: str, words: Words, structure: Mapping[str, Any], *, language: str | None = None
) -> Content:
    """One message: ``form`` is ``customer`` or ``staff`` (an email) or ``script`` (what to say on a call).

    ``language``, when given, is kept in an email's layout: its HTML is drawn in that language.
    """
    frame = _frame(form, template, words, structure)
    if frame is None:
        with in_language(words.language):
            direct = render_directly(form, template, words.context(structure))
        subject = gsm_friendly(direct.subject)[:SUBJECT_LIMIT]
        layout = dict(direct.layout)
        if layout and subject != direct.subject:
            layout["heading"] = direct.subject
        if layout and language:
            layout["language"] = language
        return Content(subject, direct.text, layout)
    heading = frame.subject.format_map(words)
    subject = gsm_friendly(heading)[:SUBJECT_LIMIT]
    body = frame.body.format_map(words)
    if form == "script":
        return Content(subject, body)
    head = frame.head.format_map(words)
    shown = {name: words[name] for name in html_words(form, structure)}
    layout = email_layout(form, shown, start=len(head), end=len(head) + len(body))
    if heading != subject:
        layout["heading"] = heading
    if language:
        layout["language"] = language
    return Content(subject, f"{head}{body}{frame.tail.format_map(words)}", layout)


def render_directly(form: str, template: str, context: Mapping[str, Any]) -> Content:
    """Render one message through the templates, word by word (the subject as the template wrote it)."""
    parts = render_blocks(template, context, ("subject", "body"))
    subject, body = parts["subject"], tidy(parts["body"])
    if form == "script":
        return Content(subject, body)
    around = _around_body(form, context)
    if around is None or not body:
        text = tidy(render_text(f"notifications/email/{form}.txt", {**context, "body": body}))
        return Content(subject, text)
    head, tail = around
    shown = {name: context[name] for name in html_words(form, context)}
    layout = email_layout(form, shown, start=len(head), end=len(head) + len(body))
    return Content(subject, f"{head}{body}{tail}", layout)


@dataclass(frozen=True)
class SmsFrame:
    """A text's format string, and the words it names (the only ones a text needs worked out)."""

    text: str
    names: tuple[str, ...]


_sms_frames: dict[tuple[Any, ...], SmsFrame | None] = {}


def sms_frame(template: str, words: Words) -> SmsFrame | None:
    key = _shape("sms", template, words, words.structure)
    if key not in _sms_frames:
        if len(_sms_frames) >= _FRAME_LIMIT:
            _sms_frames.clear()
        with in_language(words.language):
            marked = gsm_friendly(render_blocks(template, _marked(words, words.structure), ("sms",))["sms"])
        text = _as_format(marked, words.names)
        names = tuple(dict.fromkeys(_MARK.findall(marked)))
        _sms_frames[key] = SmsFrame(text, names) if text is not None else None
    return _sms_frames[key]
