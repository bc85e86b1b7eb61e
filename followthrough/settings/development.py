"""Development (DEBUG on, as scripts/run and scripts/test start it): the published development key
when none is set, static files straight from the source folders, plain HTTP."""

from followthrough.settings.base import *  # noqa: F403
from followthrough.settings.base import SECRET_KEY

DEBUG = True
DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-key-change-me-in-production"
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True  # Files are found where they are edited; nothing is collected first.
