"""Settings for the concierge case tracker, read from the environment.

Every variable is documented in `.env.example`. The defaults are safe for local use
(SQLite in `var/`, DEBUG on); production sets DJANGO_DEBUG=0 and the rest.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from tracker.logs import FORMATTERS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
else:
    # Production has no defaults for these: a process started without them stops here, saying which one is missing.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
    _required = {"DJANGO_SECRET_KEY": SECRET_KEY, "DJANGO_ALLOWED_HOSTS": ALLOWED_HOSTS}
    _missing = [name for name, value in _required.items() if not value]
    if _missing:
        raise ImproperlyConfigured(
            f"{' and '.join(_missing)} must be set when DJANGO_DEBUG=0 (see .env.example): "
            "DJANGO_SECRET_KEY a long random string, DJANGO_ALLOWED_HOSTS the host names this site answers to."
        )

INSTALLED_APPS = [
    "tracker",  # first, so its templates (admin/base_site.html) override the admin's
    "tracker.admin_app.WorkbenchAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: the docs work offline
    "django_celery_beat",
    "axes",  # failed logins are counted and a login locked for a while after too many (portal and admin)
    "django_bootstrap5",  # portal forms rendered with Bootstrap markup; the CSS itself ships in tracker/static
]

MIDDLEWARE = [
    # First: load balancers probe by address (no host check) and over plain HTTP (no redirect to HTTPS).
    "tracker.health.HealthCheckMiddleware",
    "tracker.logs.RequestLogMiddleware",  # a request id for every log line, one JSON line per request
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # the Content-Security-Policy header (CONTENT_SECURITY_POLICY below)
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files from gunicorn: no shared volume with the proxy
    "tracker.middleware.BodyLimitMiddleware",  # a body over the limit is refused before it is read
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "tracker.middleware.RefuseNulMiddleware",  # PostgreSQL refuses NUL in text: 400/404 here, not a 500 later
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tracker.portal.context.portal",
            ],
        },
    },
]

if "DATABASE_URL" not in env:
    VAR_DIR.mkdir(exist_ok=True)  # the default local database lives there
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Keep connections open between requests (checked before reuse): a new PostgreSQL connection costs ~8 ms.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while the seed loader or a worker writes.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tracker.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password is checked
    "tracker.auth.UsernameOrPhoneBackend",
]
LOGIN_URL = "portal:login"

# --- Sign-in safety -----------------------------------------------------------------------------------------
# After LOGIN_FAILURE_LIMIT failed attempts for one account (by username or mobile number, however typed: see
# tracker.auth.lockout_account), that account is locked for LOGIN_LOCKOUT_MINUTES
# (whether or not the account exists, so a lock tells nobody which accounts exist).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", default=15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
# Axes suggests adding the address; here a whole enterprise often signs in from one office address, and one
# person's typos must not lock out their colleagues. Rotating agents or cookies does not bypass a username lock.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tracker.portal.views.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "tracker.auth.lockout_account"  # one count per account, however it is named or typed
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
# The language switch (set_language) writes this cookie; nothing reads it from JavaScript.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = env.bool("LANGUAGE_COOKIE_SECURE", default=not DEBUG)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- HTTPS (production: the reverse proxy terminates TLS, sets X-Forwarded-Proto, and strips any the client sent) --
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=not DEBUG) else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading asks browsers to hard-code HTTPS for the whole domain: a decision for the zone's domain owner,
    # and impossible for an intranet name. DJANGO_HSTS_PRELOAD=1 makes it (and brings the check back).
    SILENCED_SYSTEM_CHECKS.append("security.W021")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # no page of ours is meant to be framed
# --- Content-Security-Policy (django-csp): scripts and styles come from our own static files; no inline script, no
# event handler attribute, no eval (tests/test_csp.py scans the templates; the browser tests fail on a violation).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Admin's templates carry no style attribute, so no 'unsafe-inline'. The error pages keep their one <style>
        # (they must render when nothing else works): allowed by its hash, which tests/test_csp.py recomputes.
        "style-src": ["'self'", "'sha256-lXZVo8u+RWzWTQifuVkWEUcmmVSYY0ikYyKKfPQUcjk='"],
        "img-src": ["'self'", "data:"],  # data: for the icons inlined in Bootstrap's and Swagger UI's style sheets
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 3600)
# Resets asked for one address, and from one client address, within the window (services/accounts.py).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=3)
PASSWORD_RESET_LIMIT_PER_CLIENT = env.int("PASSWORD_RESET_LIMIT_PER_CLIENT", default=10)
PASSWORD_RESET_LIMIT_WINDOW_MINUTES = env.int("PASSWORD_RESET_LIMIT_WINDOW_MINUTES", default=60)

# --- Email (password reset now; reminders later): EMAIL_URL such as smtp+tls://user:password@host:587 -------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")
# An SMTP server that hangs must not outlast a push's lease (then another worker would send the mail again).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
PORTAL_SITE_NAME = env.str("PORTAL_SITE_NAME", default="昆山高新区企业服务门户")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]  # each in its own language, for the switch
LOCALE_PATHS = [BASE_DIR / "tracker" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Outside DEBUG, `collectstatic` writes compressed copies with the content's hash in the name, served with
    # far-future cache headers (WhiteNoise); a page then always names the files of its own release.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# In DEBUG (the demo, the tests) static files come straight from the apps' folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
# Case attachments live here, outside MEDIA_ROOT, and are served only through a view that checks visibility.
PRIVATE_MEDIA_ROOT = env.path("PRIVATE_MEDIA_ROOT", default=VAR_DIR / "private")

# The zone's rules, editable per deployment.
CASE_NUMBER_PREFIX = env.str("CASE_NUMBER_PREFIX", default="GX")
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
ATTACHMENT_MAX_PER_CASE = env.int("ATTACHMENT_MAX_PER_CASE", default=20)
# A task's deadline (on decompose, re-dispatch, reopen, extension) may lie at most this many days after today.
TASK_DUE_HORIZON_DAYS = env.int("TASK_DUE_HORIZON_DAYS", default=366)

# --- The REST API (/api/v1/) -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tracker.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # the browser, with CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "tracker.api.parsers.JSONParser",
        "tracker.api.parsers.MultiPartParser",
        "tracker.api.parsers.FormParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "tracker.api.pagination.Cursor",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["tracker.api.throttling.PerTokenThrottle", "tracker.api.throttling.AnonymousThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_THROTTLE_RATE", default="1200/min"),
        "anon": env.str("API_ANON_THROTTLE_RATE", default="60/min"),
    },
    "EXCEPTION_HANDLER": "tracker.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "保姆式挂钩服务 · Concierge case tracker API",
    "DESCRIPTION": (
        "Cases (诉求) of the zone's key enterprises, their tasks (分解事项), timelines and verdicts. "
        "Authenticate with `Authorization: Token <key>`. Errors are `{code, message, fields}`. "
        "POSTs accept an `Idempotency-Key` header; transitions accept `If-Match` (the ETag of the case or task) "
        "or a `version` field. Lists are cursor-paginated. Webhooks: see /api/docs/ and docs/webhooks.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CaseStatus": "tracker.models.cases.Case.Status",
        "TaskStatus": "tracker.models.cases.Task.Status",
        "ExtensionStatus": "tracker.models.cases.Extension.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tracker.api.schema.add_error_responses",
    ],
}
CSRF_FAILURE_VIEW = "tracker.api.errors.csrf_failure"
# A request body larger than this is refused with 413 before it is read (an attachment plus its form).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=ATTACHMENT_MAX_BYTES + 1024 * 1024)
# The same for a form of the portal or the workbench, attachments included (one request, however many files).
WEB_MAX_BODY_BYTES = env.int("WEB_MAX_BODY_BYTES", default=API_MAX_BODY_BYTES)
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# --- Cache (throttle counters): shared through Redis in production so every process counts the same requests
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Celery on Redis ------------------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# The worker logs through LOGGING (JSON lines with the task and case) instead of replacing it with its own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# A request must not hang when the broker is down: publish fails fast and the outbox sweep sends later.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# Periodic work lives in the database (django-celery-beat), editable in the admin; `manage.py seed` creates it.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker that needs no server (the demo): messages are files in one folder shared by web, worker and beat.
    _broker_dir = env.path("CELERY_BROKER_DIR", default=VAR_DIR / "broker")
    for _folder in ("queue", "processed", "control"):
        Path(_broker_dir, _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(Path(_broker_dir, "queue")),
        "data_folder_out": str(Path(_broker_dir, "queue")),
        "processed_folder": str(Path(_broker_dir, "processed")),
        "control_folder": str(Path(_broker_dir, "control")),
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # no fanout on this transport

# --- Webhooks out -----------------------------------------------------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=30.0)
WEBHOOK_RETRY_MAX_SECONDS = env.float("WEBHOOK_RETRY_MAX_SECONDS", default=3600.0)
# Webhooks and WeCom robots reach public addresses only (services/delivery/egress.py). On for tests and the local demo
# only, whose receivers listen on 127.0.0.1: `manage.py check --deploy` fails when it is on.
OUTBOUND_ALLOW_PRIVATE_ADDRESSES = env.bool("OUTBOUND_ALLOW_PRIVATE_ADDRESSES", default=False)

# --- Reminders and pushes (services/time/reminders.py, services/delivery/pushes.py) -----------------------------------
# The address people are sent to in emails and WeCom messages.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Pushes (email, WeCom) go out from this hour to that hour on working days; written outside, they wait.
REMINDER_DAY_START_HOUR = env.int("REMINDER_DAY_START_HOUR", default=9)
REMINDER_DAY_END_HOUR = env.int("REMINDER_DAY_END_HOUR", default=18)
# A task overdue by this many working days goes to the department head (黄牌), then to the linked leader (红牌).
REMINDER_YELLOW_AFTER_DAYS = env.int("REMINDER_YELLOW_AFTER_DAYS", default=2)
REMINDER_RED_AFTER_DAYS = env.int("REMINDER_RED_AFTER_DAYS", default=5)
# A case overdue for acceptance by this many working days goes to the linked leader.
REMINDER_ACCEPT_ESCALATE_AFTER_DAYS = env.int("REMINDER_ACCEPT_ESCALATE_AFTER_DAYS", default=2)
# A case paused (挂起) longer than this many working days is listed for leaders (services.cases.clocks.long_pauses_q).
CLOCK_PAUSE_LONG_AFTER_DAYS = env.int("CLOCK_PAUSE_LONG_AFTER_DAYS", default=10)
PUSH_TIMEOUT_SECONDS = env.float("PUSH_TIMEOUT_SECONDS", default=10.0)
PUSH_MAX_ATTEMPTS = env.int("PUSH_MAX_ATTEMPTS", default=8)
PUSH_RETRY_BASE_SECONDS = env.float("PUSH_RETRY_BASE_SECONDS", default=60.0)
PUSH_RETRY_MAX_SECONDS = env.float("PUSH_RETRY_MAX_SECONDS", default=3600.0)
PUSH_MESSAGE_ID_DOMAIN = env.str("PUSH_MESSAGE_ID_DOMAIN", default="concierge.local")

# --- Logs: one JSON object per line on stdout (LOG_FORMAT=json, the default outside DEBUG), each with the request
# id, the user and the case number where there is one (tracker/logs.py). LOG_FORMAT=text is for people at a terminal.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in FORMATTERS:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "tracker.logs.ContextFilter"}},
    "formatters": FORMATTERS,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # stdout for the services; deploy/tracker's `manage` says stderr, so a command's output stays its own
            "stream": "ext://sys.stderr" if env.str("LOG_STREAM", default="stdout") == "stderr" else "ext://sys.stdout",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},  # one line per failed login is noise; lockouts are warnings
        # Our own request line says the same with more context (request id, user, duration).
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
