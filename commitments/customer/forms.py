"""Forms of the customer's pages: they read the input; the rules are checked by commitments.customer.services."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from commitments.customer.selectors import masked_email, masked_phone
from commitments.customer.services import ANSWER_LIMIT, ContactPreferences
from commitments.languages import catalog_for, supported_languages
from commitments.models import Channel, Customer

CHANNEL_CHOICES = [
    (Channel.EMAIL.value, _("Email")),
    (Channel.SMS.value, _("Text message")),
    (Channel.PHONE.value, _("Phone call")),
]


class StillAProblemForm(forms.Form):
    what_is_wrong = forms.CharField(
        label=_("What is still wrong?"),
        required=False,
        max_length=ANSWER_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A sentence or two helps us fix it faster."),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=ANSWER_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write your answer before sending it.")},
    )


class PreferencesForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        label=_("How should we reach you?"), choices=CHANNEL_CHOICES, widget=forms.RadioSelect
    )
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone number"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text=_("With the country code if it's not a US number, e.g. +44 7700 900123."),
    )
    texts_allowed = forms.BooleanField(label=_("You may send me text messages"), required=False)
    email_updates = forms.BooleanField(label=_("Email me regular status updates"), required=False)
    # Each language's name in that language: whoever reads the page can find their own.
    language = forms.ChoiceField(label=_("Language"), choices=supported_languages, required=False)

    @classmethod
    def for_customer(cls, customer: Customer, data: Any = None) -> "PreferencesForm":
        """The customer's choices, their email and phone masked (whoever holds the link sees this page).

        Left as shown, a masked contact stays as it is; emptied, it is removed; a new one is used
        once confirmed from the message we send to it.
        """
        form = cls(
            data=data,
            initial={
                "preferred_channel": customer.preferred_channel,
                "email": masked_email(customer.email),
                "phone": masked_phone(customer.phone),
                "texts_allowed": not customer.sms_opted_out,
                "email_updates": not customer.email_updates_opted_out,
                "language": catalog_for(customer.language_code),
            },
        )
        form.customer = customer
        if customer.email:
            form.fields["email"].help_text = _(
                "A new address is used once you confirm it from the message we send there."
            )
        if customer.phone:
            form.fields["phone"].help_text = _(
                "With the country code if it's not a US number, e.g. +44 7700 900123. "
                "A new number is used once you confirm it from the text we send there."
            )
        return form

    customer: Customer | None = None

    def preferences(self) -> ContactPreferences:
        data = self.cleaned_data
        email, phone = data["email"].strip(), data["phone"].strip()
        if self.customer is not None:
            # The masked contact sent back unchanged means "keep it".
            if email == masked_email(self.customer.email):
                email = self.customer.email
            if phone == masked_phone(self.customer.phone):
                phone = self.customer.phone
        return ContactPreferences(
            preferred_channel=data["preferred_channel"],
            email=email,
            phone=phone,
            texts_allowed=data["texts_allowed"],
            email_updates=data["email_updates"],
            language=data.get("language") or "",
        )
