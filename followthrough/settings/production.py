"""Production (DEBUG off, the default): a key of the operator's own, hashed static file names
collected at deploy time, and HTTPS wherever SITE_URL says the site is served over it."""

from django.core.exceptions import ImproperlyConfigured

from followthrough.settings.base import *  # noqa: F403
from followthrough.settings.base import SECRET_KEY, SILENCED_SYSTEM_CHECKS, SITE_URL, STORAGES, env

DEBUG = False
# Keys published with the project (the development one, the one docker-compose.yml once shipped):
# anyone could sign sessions and links with them, so they never run here.
KNOWN_SECRET_KEYS = frozenset(
    {
        "django-insecure-development-only-key-change-me-in-production",
        "change-me-to-a-long-random-string-before-going-live",
    }
)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
if SECRET_KEY in KNOWN_SECRET_KEYS or SECRET_KEY.startswith("django-insecure"):
    raise ImproperlyConfigured("SECRET_KEY is a published development key: set a long random one when DEBUG is off.")

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}

# HTTPS follows SITE_URL: with an https:// SITE_URL every request is redirected to HTTPS, cookies
# are secure and HSTS is sent; with an http:// one (a private network, a test rig) the app serves
# plain HTTP, and `check --deploy` says so.
SERVES_HTTPS = SITE_URL.startswith("https://")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SERVES_HTTPS else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SERVES_HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SERVES_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SERVES_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if SERVES_HTTPS else 0)
# Both bind every subdomain (and, with preload, browsers' built-in lists) for a year: opt-in.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W005", "security.W021"]  # The two opt-ins above.
