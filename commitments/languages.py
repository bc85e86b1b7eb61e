"""The customer's language: a BCP 47 tag we have messages and a status page in.

English and Spanish ship complete (``locale/``). A regional tag (``es-MX``) is kept as the
customer gave it and read with its language's catalog; a language we have no catalog for is
refused rather than silently sent in English.
"""

import re

from django.conf import settings
from django.utils import translation

# language[-script][-region], the parts of BCP 47 a person's language is told with.
BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$")


def supported_languages() -> list[tuple[str, str]]:
    """(code, name in that language), as a form offers them."""
    return [(code, name) for code, name in settings.LANGUAGES]


def clean_language(raw: str) -> str:
    """The tag written the BCP 47 way (``es-MX``), or ValueError saying which languages we speak."""
    tag = (raw or "").strip().replace("_", "-")
    if BCP47.match(tag):
        parts = tag.split("-")
        parts[0] = parts[0].lower()
        parts[1:] = [part.title() if len(part) == 4 else part.upper() for part in parts[1:]]
        tag = "-".join(parts)
        try:
            translation.get_supported_language_variant(tag.lower())
        except LookupError:
            pass
        else:
            return tag
    known = ", ".join(f"{code} ({name})" for code, name in supported_languages())
    raise ValueError(f"“{raw}” is not a language we write in. Choose one of: {known}.")


def catalog_for(tag: str) -> str:
    """The language code whose translations a tag is read with (``es-MX`` → ``es``)."""
    try:
        return translation.get_supported_language_variant((tag or settings.FOLLOWTHROUGH_LANGUAGE).lower())
    except LookupError:
        return settings.LANGUAGE_CODE
