"""What each message says, and where each part of it lives.

- The words themselves: ``templates/notifications/customer/<kind>.txt`` (a customer's email
  ``subject`` and ``body``, and the ``sms`` text) and ``templates/notifications/staff/<kind>.txt``;
  Spanish in ``locale/es/``. The status update email is ``customer/status_update.txt``.
- Around every email's text: ``templates/notifications/email/customer.txt`` and ``staff.txt`` (the
  greeting, the status link, the signature), and the HTML layout ``email/layout.html`` (``html.py``).
- ``render.py``: the functions callers use (``render_customer_message``, ``render_staff_messages``,
  ``render_call_task``), which pick the template (a team's own wording, ``team_templates``).
- ``words.py``: what a message can say (names, times in the reader's zone, the status link from
  ``commitments.status_links``), each word worked out only when a template asks for it.
- ``frames.py``: each template rendered once per shape and filled in per message (why: the figures
  of ``benchmarks/rendering_benchmark.py``); ``templates.py``: the compiled templates.
- ``sms.py``: a text fitted into two segments (``notifications.segments`` counts them); times and
  names are written by ``notifications.time_words``.

Customers read times in their own zone and language; staff in their team's zone, in English. The
words are plain: no hedging, no "if" in an apology.
"""

from notifications.wording.content import Content
from notifications.wording.html import email_html
from notifications.wording.render import (
    customer_context,
    customer_template,
    render_call_task,
    render_customer_message,
    render_staff_message,
    render_staff_messages,
    staff_context,
)
from notifications.wording.words import CALL_TOPICS

__all__ = [
    "CALL_TOPICS",
    "Content",
    "customer_context",
    "customer_template",
    "email_html",
    "render_call_task",
    "render_customer_message",
    "render_staff_message",
    "render_staff_messages",
    "staff_context",
]
