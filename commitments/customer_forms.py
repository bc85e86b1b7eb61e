"""Forms of the customer's pages: they read the input; the rules are checked by commitments.customer_services."""

from typing import Any

from django import forms

from commitments.customer_services import ANSWER_LIMIT, ContactPreferences
from commitments.models import Channel, Customer

CHANNEL_CHOICES = [
    (Channel.EMAIL.value, "Email"),
    (Channel.SMS.value, "Text message"),
    (Channel.PHONE.value, "Phone call"),
]


class StillAProblemForm(forms.Form):
    what_is_wrong = forms.CharField(
        label="What is still wrong?",
        required=False,
        max_length=ANSWER_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A sentence or two helps us fix it faster.",
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer",
        max_length=ANSWER_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Write your answer before sending it."},
    )


class PreferencesForm(forms.Form):
    preferred_channel = forms.ChoiceField(
        label="How should we reach you?", choices=CHANNEL_CHOICES, widget=forms.RadioSelect
    )
    email = forms.CharField(
        label="Email address",
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label="Mobile phone number",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        help_text="With the country code if it's not a US number, e.g. +44 7700 900123.",
    )
    texts_allowed = forms.BooleanField(label="You may send me text messages", required=False)
    email_updates = forms.BooleanField(label="Email me regular status updates", required=False)

    @classmethod
    def for_customer(cls, customer: Customer, data: Any = None) -> "PreferencesForm":
        return cls(
            data=data,
            initial={
                "preferred_channel": customer.preferred_channel,
                "email": customer.email,
                "phone": customer.phone,
                "texts_allowed": not customer.sms_opted_out,
                "email_updates": not customer.email_updates_opted_out,
            },
        )

    def preferences(self) -> ContactPreferences:
        data = self.cleaned_data
        return ContactPreferences(
            preferred_channel=data["preferred_channel"],
            email=data["email"],
            phone=data["phone"],
            texts_allowed=data["texts_allowed"],
            email_updates=data["email_updates"],
        )
