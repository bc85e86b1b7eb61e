"""Form widgets written as Django's own widget templates write them, without the template engine.

A commitment page shows a form for each move it offers: two dozen widgets, each one a render of
Django's ``input.html`` (with its ``attrs.html`` include) or ``textarea.html`` through the template
engine, a fifth of the page's time. The plain inputs, checkboxes, radio options and text areas are
written here instead, to the byte; any other widget (a select, a widget of our own) still goes
through its template. ``tests/commitments/test_form_rendering.py`` holds the two ways equal.
"""

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` in an autoescaped template."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        text = "%s" % value  # noqa: UP031 - exactly what the stringformat filter does
    except (ValueError, TypeError):
        text = ""
    # The filter keeps a safe value's safety; anything else is escaped.
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    return "".join(
        f" {conditional_escape(name)}" + ("" if value is True else f'="{_formatted(value)}"')
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/input.html``."""
    value = f' value="{_formatted(widget["value"])}"' if widget["value"] is not None else ""
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _input_option(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/input_option.html`` (a radio button, wrapped in its label or not)."""
    if not widget.get("wrap_label"):
        return _input(widget)
    label_for = f' for="{conditional_escape(widget["attrs"]["id"])}"' if widget["attrs"].get("id") else ""
    return f"<label{label_for}>{_input(widget)} {conditional_escape(str(widget['label']))}</label>"


def _textarea(widget: dict[str, Any]) -> str:
    """``django/forms/widgets/textarea.html``."""
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


WRITTEN = {
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/text.html": _input,
    "django/forms/widgets/datetime.html": _input,
    "django/forms/widgets/checkbox.html": _input,
    "django/forms/widgets/radio_option.html": _input_option,
    "django/forms/widgets/textarea.html": _textarea,
}


class WidgetsWritten(DjangoTemplates):
    """Django's default form renderer, with the plain widgets written directly (see the module)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        write = WRITTEN.get(template_name)
        widget = context.get("widget")
        # A value the template would localize (a number, a date) takes the template's way.
        if write is None or not isinstance(widget, dict) or not isinstance(widget.get("value"), str | None):
            return super().render(template_name, context, request=request)
        return write(widget)
