"""The message templates, compiled: the product's (``templates/notifications/``) and each team's own.

A message template has ``{% block %}``s (``subject``, ``body``, ``sms``) rendered one at a time as
plain text: Django escapes nothing here, the HTML version escapes the words when it draws them.
"""

import math
import re
import time
from collections.abc import Mapping
from typing import Any

from django.template import Context
from django.template.base import Template as CompiledTemplate
from django.template.loader import get_template
from django.template.loader_tags import BlockNode

# Compiled templates, looked up again at most once a second: Django's cached loader costs a few
# microseconds a look-up, a sweep writes thousands of messages a second, and a template edited
# in development still shows within the second.
TEMPLATE_RECHECK = 1.0
_templates: dict[str, tuple[float, CompiledTemplate]] = {}


def compiled(name: str) -> CompiledTemplate:
    """The template ``name``: a team's wording kept here, or the product's through Django's loader."""
    now = time.monotonic()
    known = _templates.get(name)
    if known is None or now - known[0] > TEMPLATE_RECHECK:
        known = _templates[name] = (now, get_template(name).template)  # type: ignore[attr-defined]
    return known[1]


def use_compiled(name: str, template: CompiledTemplate) -> None:
    """Keep a template compiled elsewhere under ``name`` (a team's own wording, never changed once saved)."""
    _templates[name] = (math.inf, template)


def is_compiled(name: str) -> bool:
    return name in _templates


def forget_compiled(name: str) -> None:
    _templates.pop(name, None)


def render_blocks(name: str, context: Mapping[str, Any], blocks: tuple[str, ...]) -> dict[str, str]:
    """Render the named ``{% block %}``s of one template as plain text (no HTML escaping)."""
    template = compiled(name)
    nodes: dict[str, BlockNode] = {
        node.name: node for node in template.nodelist.get_nodes_by_type(BlockNode) if isinstance(node, BlockNode)
    }
    rendered: dict[str, str] = {}
    ctx = Context(dict(context), autoescape=False)
    with ctx.render_context.push_state(template), ctx.bind_template(template):
        for block in blocks:
            node = nodes.get(block)
            # Django marks what it renders as safe HTML; these are plain words, to be escaped in HTML.
            rendered[block] = str.__str__(node.render(ctx)) if node is not None else ""
    return rendered


def render_text(name: str, context: Mapping[str, Any]) -> str:
    """A whole plain-text template (no HTML escaping)."""
    return str.__str__(compiled(name).render(Context(dict(context), autoescape=False)))


def tidy(text: str) -> str:
    """Template whitespace out: no trailing spaces, no runs of blank lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def tidy_words(text: str) -> str:
    """Free text on several lines, tidied as ``tidy`` tidies the message it goes into."""
    if text.isprintable():  # No line break of any kind: nothing to tidy.
        return text
    lines = text.splitlines()
    if len(lines) < 2:
        return text
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines))
