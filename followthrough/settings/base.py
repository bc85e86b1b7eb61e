"""The settings every process shares, read from the environment (the README and contract list each
variable). Importing this module touches no file or directory: the layers beside it add what
differs between development (DEBUG on) and production (DEBUG off), and test.py what the suite
needs; followthrough/settings/__init__.py picks development or production from DEBUG.

With nothing set, the app runs on embedded defaults: SQLite and an on-disk Celery broker,
so web, worker and beat start on a laptop with no server installed.
"""

from datetime import time
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from followthrough.durations import parse_duration, parse_duration_list

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Off unless asked for: scripts/run and scripts/test turn it on for development.
DEBUG = env.bool("DEBUG", default=False)
# Checked by the layer that loads this one: production refuses an empty or published key.
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "anymail",
    "accounts",
    "commitments",
    "notifications",
    "dashboard",
]
# Covering indexes (INCLUDE) serve the dashboard on PostgreSQL; SQLite builds the plain index, as
# it should, and need not say so on every command of a first run.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "followthrough.urls"
WSGI_APPLICATION = "followthrough.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Django's form renderer with the plain widgets (inputs, text areas, radio options) written without
# the template engine, to the same markup: two dozen of them were a fifth of a commitment page's time.
FORM_RENDERER = "commitments.form_rendering.WidgetsWritten"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Reuse each process's database connection (a new one per request cost a few ms of every page);
# checked before reuse, so a restarted PostgreSQL costs one failed check, not a failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: wait for the lock instead of failing while the worker writes.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username and address pair is refused before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "commitments:mine"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The customer's languages: staff pages are in English; every customer-facing word goes through
# gettext (catalogs in locale/, compiled .mo files committed so a fresh machine needs no gettext).
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FOLLOWTHROUGH_LANGUAGE = env.str("FOLLOWTHROUGH_LANGUAGE", default="en").strip()
if FOLLOWTHROUGH_LANGUAGE.lower().split("-")[0] not in {code for code, _ in LANGUAGES}:
    raise ImproperlyConfigured(f"FOLLOWTHROUGH_LANGUAGE must be one of: {', '.join(code for code, _ in LANGUAGES)}.")
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Filled by `manage.py collectstatic` (scripts/run, the Dockerfile, a deploy) and served by whitenoise.
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Mail and texts -------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
# Sending through an ESP's API instead of SMTP: EMAIL_BACKEND=anymail.backends.mailgun.EmailBackend
# (or another of anymail's), with its settings as ANYMAIL_<NAME> (ANYMAIL_MAILGUN_API_KEY, ...).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=EMAIL_CONFIG["EMAIL_BACKEND"])
ANYMAIL = {name.removeprefix("ANYMAIL_"): value for name, value in env.ENVIRON.items() if name.startswith("ANYMAIL_")}
# Replies come back to replies+<token>@<this domain>; inbound mail and delivery events are posted
# by Mailgun and checked with its webhook signing key (without it those hooks answer 404).
EMAIL_REPLY_TO = env.str("EMAIL_REPLY_TO", default="")
MAILGUN_WEBHOOK_SIGNING_KEY = env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default="")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="followthrough@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SMS_BACKEND = env.str("SMS_BACKEND", default="console")
SMS_WEBHOOK_URL = env.str("SMS_WEBHOOK_URL", default="")
SMS_TIMEOUT = env.int("SMS_TIMEOUT", default=10)
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# Tests point the Twilio SDK at a local server that speaks its protocol.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
if SMS_BACKEND not in {"console", "webhook", "twilio"}:
    raise ImproperlyConfigured("SMS_BACKEND must be console, webhook or twilio.")


# --- The follow-through engine --------------------------------------------------------------
def _duration(name: str, default: str):  # type: ignore[no-untyped-def]
    try:
        return parse_duration(env.str(name, default=default))
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}: {error}") from error


FOLLOWTHROUGH_UPDATE_INTERVAL = _duration("FOLLOWTHROUGH_UPDATE_INTERVAL", "24h")
try:
    FOLLOWTHROUGH_ESCALATE_BEFORE = parse_duration_list(env.str("FOLLOWTHROUGH_ESCALATE_BEFORE", default="24h,4h"))
except ValueError as error:
    raise ImproperlyConfigured(f"FOLLOWTHROUGH_ESCALATE_BEFORE: {error}") from error
FOLLOWTHROUGH_SATISFACTION_AFTER = _duration("FOLLOWTHROUGH_SATISFACTION_AFTER", "24h")
FOLLOWTHROUGH_QUIET_HOURS = env.str("FOLLOWTHROUGH_QUIET_HOURS", default="21:00-08:00")
FOLLOWTHROUGH_SWEEP_INTERVAL = _duration("FOLLOWTHROUGH_SWEEP_INTERVAL", "60s")
FOLLOWTHROUGH_RETRY_MAX = _duration("FOLLOWTHROUGH_RETRY_MAX", "30m")
FOLLOWTHROUGH_PHONE_REGION = env.str("FOLLOWTHROUGH_PHONE_REGION", default="US").upper()
# When each team lead gets the daily digest, in the team's time zone (HH:MM).
try:
    _digest_hour, _, _digest_minute = env.str("FOLLOWTHROUGH_DIGEST_AT", default="08:00").strip().partition(":")
    FOLLOWTHROUGH_DIGEST_AT = time(int(_digest_hour), int(_digest_minute))
except ValueError as error:
    raise ImproperlyConfigured("FOLLOWTHROUGH_DIGEST_AT: write a time of day such as 08:00") from error
# How long a worker may hold a claimed message before another may take it over.
FOLLOWTHROUGH_DELIVERY_LEASE = _duration("FOLLOWTHROUGH_DELIVERY_LEASE", "60s")
# A send must end well inside its lease (check followthrough.E001): timeouts not set shrink with it.
for _timeout in ("EMAIL_TIMEOUT", "SMS_TIMEOUT"):
    if _timeout not in env.ENVIRON:
        vars()[_timeout] = min(vars()[_timeout], max(1, int(FOLLOWTHROUGH_DELIVERY_LEASE.total_seconds() // 3)))

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The embedded broker's folders are made when Celery first reads this (followthrough.celery).
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport, sending through one client kept per channel (followthrough.redis_clients).
    # A ``rediss://`` broker keeps kombu's own transport, which sets up its TLS from the URL's scheme.
    CELERY_BROKER_TRANSPORT = "followthrough.redis_clients:KeptClientRedisTransport"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "notifications.tasks.sweep",
        "schedule": FOLLOWTHROUGH_SWEEP_INTERVAL.total_seconds(),
        "options": {"expires": FOLLOWTHROUGH_SWEEP_INTERVAL.total_seconds()},
    },
    # Idempotency records older than a day, expired API tokens, unconfirmed contact changes.
    "housekeeping": {"task": "followthrough.housekeeping.prune", "schedule": 3600.0, "options": {"expires": 3600}},
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api_tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "followthrough.api.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "followthrough.api.throttling.AnonymousRateThrottle",
        "followthrough.api.throttling.PerUserRateThrottle",
        "followthrough.api.throttling.PerTokenRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="300/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "token": env.str("THROTTLE_TOKEN", default="1200/min"),
        "customer": env.str("THROTTLE_CUSTOMER", default="300/min"),
        "inbound": env.str("THROTTLE_INBOUND", default="120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Followthrough API",
    "DESCRIPTION": "Log, follow and keep the promises made to customers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ChannelEnum": "commitments.models.Channel",
        "CommitmentStatusEnum": "commitments.models.Status",
        "DeliveryStatusEnum": "notifications.models.DeliveryStatus",
        "NotificationKindEnum": "notifications.models.MessageKind",
    },
}

if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Rate limits must hold across several web processes: share them through Redis.
    # Django's Redis cache, through one client kept per process (followthrough.redis_clients).
    CACHES = {"default": {"BACKEND": "followthrough.redis_clients.KeptClientRedisCache", "LOCATION": CELERY_BROKER_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The dashboard's drawn figures (``{% cache %}``): kept in each web process's own memory, so a page
# never fails because Redis is restarting, and drawing them twice a minute (once per process) is cheap.
CACHES["template_fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "template-fragments",
}

# --- Security (production: DEBUG off) -------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HTTPS (redirects, secure cookies, HSTS) follows SITE_URL in production.py.

# Proxies the operator puts in front of the web process; only their X-Forwarded-For entries are
# believed (followthrough.client_address, used by every rate limit and the login lockout).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "followthrough.client_address.client_address"

# Logins (the login page, the admin's, the API's token call): 5 failures for one username from
# one address within 15 minutes lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = _duration("LOGIN_LOCKOUT", "15m")
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "followthrough.client_address.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.login_lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# API tokens (accounts.api_tokens): stored as a digest, good for this long.
API_TOKEN_LIFETIME = _duration("API_TOKEN_LIFETIME", "30d")

# Every page: scripts and styles from our own origin only, no inline script, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Prometheus scrapes /metrics with "Authorization: Bearer <METRICS_TOKEN>" (or a staff login).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# LOG_FORMAT=json: one JSON object a line, with commitment_id and notification_id where known.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"  # Workers keep the JSON handler below.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # Customer link tokens, API tokens and idempotency keys never reach the logs.
        "redact_secrets": {"()": "followthrough.log_redaction.RedactSecrets"},
        "ids": {"()": "notifications.log_context.LogContextFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["redact_secrets", "ids"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
