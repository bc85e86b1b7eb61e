"""The suite (pytest-django loads this): development's settings with a fast password hasher, since
tests log in hundreds of users and a slow hash proves nothing there. Processes the suite starts
(gunicorn, workers, beats) load followthrough.settings like any deploy."""

from followthrough.settings.development import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
