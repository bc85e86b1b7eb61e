"""``{% form_field %}`` writes a field as the template it replaced (``commitments/_field.html``) did."""

from django import forms
from django.template import engines
from django.utils.translation import gettext_lazy

# The template the tag replaced, as it was (its file ended with a newline, which an include kept):
# the markup's reference. A change to a field's markup is made in the tag and here, together.
FORMER_FIELD_TEMPLATE = """<div class="field{% if field.errors %} field-error{% endif %}{% if class %} {{ class }}{% endif %}">
  <label for="{{ field.id_for_label }}">{{ field.label }}{% if optional %} <span class="optional">optional</span>{% endif %}</label>
  {{ field }}
  {% if field.help_text %}<p class="help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
  {% if field.errors %}<ul class="field-errors" id="{{ field.auto_id }}_errors">{% for error in field.errors %}<li>{{ error }}</li>{% endfor %}</ul>{% endif %}
</div>
"""  # noqa: E501


class OddForm(forms.Form):
    summary = forms.CharField(label='What was "promised" & <why>', help_text="Say it <plainly> & briefly.")
    details = forms.CharField(widget=forms.Textarea, required=False, label=gettext_lazy("Details"))
    due_at = forms.DateTimeField(label="Due", help_text="")
    channel = forms.ChoiceField(choices=[("email", "Email"), ("sms", "Text <SMS>")], label="Channel")

    def clean_summary(self) -> str:
        raise forms.ValidationError(["Too <vague>: say what & when.", "Another's problem"])


def both_ways(form: forms.Form, name: str, *, optional: bool = False) -> tuple[str, str]:
    engine = engines["django"]
    former = engine.from_string(FORMER_FIELD_TEMPLATE).render({"field": form[name], "optional": optional})
    tag = engine.from_string("{% load fields %}{% form_field field optional=optional %}").render(
        {"field": form[name], "optional": optional}
    )
    return former, tag


def test_a_field_is_written_as_the_former_template_wrote_it():
    # Given a form unbound and one bound with errors, odd characters, help texts and none
    unbound = OddForm(auto_id="id_move_%s")
    bound = OddForm(data={"summary": "x <y>", "details": "a\nb", "due_at": "soon & later", "channel": "fax"})
    bound.is_valid()
    assert bound.errors["summary"] and bound.errors["due_at"] and bound.errors["channel"]

    # When each field is written by the tag and by the template, optional or not
    for form in (unbound, bound, OddForm(auto_id=False)):
        for name in form.fields:
            for optional in (False, True):
                former, tag = both_ways(form, name, optional=optional)

                # Then the two are the same to the byte
                assert tag == former, (name, optional)
    former, _ = both_ways(bound, "summary")
    assert "<li>Too &lt;vague&gt;: say what &amp; when.</li>" in former
    assert "field field-error" in former
