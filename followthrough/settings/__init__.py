"""What every process loads by default (DJANGO_SETTINGS_MODULE=followthrough.settings): the
production layer when DEBUG is off, as the contract runs the app, the development layer when it is
on. The suite loads followthrough.settings.test; a deploy may name a layer outright."""

from followthrough.settings.base import DEBUG

if DEBUG:
    from followthrough.settings.development import *  # noqa: F403
else:
    from followthrough.settings.production import *  # noqa: F403
