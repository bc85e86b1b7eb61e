"""``{% form_field field optional=True %}``: one form field with its label, help and errors.

Written in Python rather than included as a template: a commitment page shows some sixteen fields
(the update composer and each move's form), and an include of a small template each cost as much
as the rest of the page's forms. The markup is what ``commitments/_field.html`` wrote, to the byte
(``tests/commitments/test_form_field.py`` renders both).
"""

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def form_field(field: BoundField, optional: bool = False) -> SafeString:
    errors = field.errors
    help_text = (
        f'<p class="help" id="{conditional_escape(field.auto_id)}_helptext">{conditional_escape(field.help_text)}</p>'
        if field.help_text
        else ""
    )
    listed_errors = (
        f'<ul class="field-errors" id="{conditional_escape(field.auto_id)}_errors">'
        + "".join(f"<li>{conditional_escape(str(error))}</li>" for error in errors)
        + "</ul>"
        if errors
        else ""
    )
    optional_mark = ' <span class="optional">optional</span>' if optional else ""
    return mark_safe(  # noqa: S308 - every value escaped as the template's autoescaping does
        f'<div class="field{" field-error" if errors else ""}">\n'
        f'  <label for="{conditional_escape(field.id_for_label)}">{conditional_escape(field.label)}'
        f"{optional_mark}</label>\n"
        f"  {conditional_escape(str(field))}\n"
        f"  {help_text}\n"
        f"  {listed_errors}\n"
        "</div>\n"
    )
