"""Form widgets written as Django's own widget templates write them, without the template engine.

A commitment page shows a form for each move it offers: two dozen widgets, each one a render of
Django's ``input.html`` (with its ``attrs.html`` include) or ``textarea.html`` through the template
engine, a fifth of the page's time. The plain inputs, checkboxes, radio options, text areas and
selects (a select is one include per option: the hand-off's and the edit's cost a sixth of the
page) are written here instead, to the byte; any other widget (option groups, a widget of our
own) still goes through its template. ``tests/commitments/test_form_rendering.py`` holds the two
ways equal.
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


def _input(widget: dict[str, Any]) -> str | None:
    """``django/forms/widgets/input.html``."""
    value = f' value="{_formatted(widget["value"])}"' if widget["value"] is not None else ""
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _input_option(widget: dict[str, Any]) -> str | None:
    """``django/forms/widgets/input_option.html`` (a radio button, wrapped in its label or not)."""
    if not widget.get("wrap_label"):
        return _input(widget)
    label_for = f' for="{conditional_escape(widget["attrs"]["id"])}"' if widget["attrs"].get("id") else ""
    return f"<label{label_for}>{_input(widget)} {conditional_escape(str(widget['label']))}</label>"


def _textarea(widget: dict[str, Any]) -> str | None:
    """``django/forms/widgets/textarea.html``."""
    value = conditional_escape(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


def _select(widget: dict[str, Any]) -> str | None:
    """``django/forms/widgets/select.html`` with its ``select_option.html`` (each option's template
    leaves its newline after it); None for what it does not cover (option groups, options of
    another template, a label that is not text)."""
    options = []
    for group_name, group_choices, _ in widget["optgroups"]:
        if group_name:
            return None
        for option in group_choices:
            if option.get("template_name") != "django/forms/widgets/select_option.html":
                return None
            if not isinstance(option["label"], str) or not isinstance(option["value"], str | int | None):
                return None
            options.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{conditional_escape(option['label'])}</option>\n"
            )
    return f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>{"".join(options)}\n</select>'


WRITTEN = {
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/text.html": _input,
    "django/forms/widgets/datetime.html": _input,
    "django/forms/widgets/checkbox.html": _input,
    "django/forms/widgets/radio_option.html": _input_option,
    "django/forms/widgets/textarea.html": _textarea,
    "django/forms/widgets/select.html": _select,
}


class WidgetsWritten(DjangoTemplates):
    """Django's default form renderer, with the plain widgets written directly (see the module)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        write = WRITTEN.get(template_name)
        widget = context.get("widget")
        # A value the template would localize (a number, a date) takes the template's way. A
        # select's value (the chosen ones, a list) is not written: its options say which are chosen.
        if write is None or not isinstance(widget, dict):
            return super().render(template_name, context, request=request)
        if write is not _select and not isinstance(widget.get("value"), str | None):
            return super().render(template_name, context, request=request)
        written = write(widget)
        return super().render(template_name, context, request=request) if written is None else written
