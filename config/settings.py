"""PhysioTrack settings: one module, driven by environment variables.

Every variable is listed in README.md. Nothing here exists only in production:
development differs by the values it sets, not by code paths.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from corsheaders.defaults import default_headers as default_cors_headers
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("PHYSIOTRACK_RUN_DIR", BASE_DIR / ".run"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value in production, "
            "or set DJANGO_DEBUG=1 for local development (see README.md)."
        )
    # Development only: a per-checkout key kept out of git, so tokens survive restarts.
    _key_file = RUN_DIR / "dev-secret-key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        RUN_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(get_random_secret_key())
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "backend.core",
    "backend.accounts",
    "backend.exercise",
    "backend.alerts",
    "backend.symptoms",
    "backend.audit",
    "backend.fhir",
    "backend.console",
]

MIDDLEWARE = [
    "backend.core.middleware.RequestIdMiddleware",
    "backend.core.middleware.BodySizeLimitMiddleware",
    "backend.core.middleware.DatabaseUnavailableMiddleware",
    "corsheaders.middleware.CorsMiddleware",  # before CommonMiddleware, as its docs ask
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The console's idle sign-out and second-factor gate (after auth and OTP, which it reads).
    "backend.console.middleware.ConsoleSessionMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/")

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that drops packets would otherwise hold each request until the
    # operating system gives up (minutes); the request gets a 503 after this many seconds.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")
    )
    # Behind PgBouncer in transaction mode a server-side cursor (what QuerySet.iterator()
    # opens outside a transaction) outlives the transaction that PgBouncer pins to one server
    # connection, and the next fetch fails. The periodic jobs page by key instead
    # (backend/core/fanout.py), so their memory stays bounded either way.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The dev stack runs web, worker and beat on one SQLite file: WAL and IMMEDIATE
    # transactions keep them from failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling, lockouts) ----------------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES: dict[str, dict[str, Any]]
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Without DEBUG, start-up refuses a cache or broker that lives in one process (core.E001-E003,
# backend/core/checks.py): throttles, lockouts and tasks must be shared by every process.
# Only the test settings set this, for the suite's in-memory broker and cache.
SINGLE_PROCESS_ALLOWED = False
# Rendered response bodies keyed by their ETag, in each process's memory: content-addressed,
# so never stale, and a hit costs no network round trip (about 6 MB per process when full).
CACHES["rendered"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "rendered",
    "TIMEOUT": 3600,
    "OPTIONS": {"MAX_ENTRIES": 1000},
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
ACTIVATION_CODE_TTL = timedelta(hours=int(os.environ.get("ACTIVATION_CODE_TTL_HOURS", "72")))
# Lockout: this many failed sign-ins for one username from one IP within the window lock that
# pair (only that pair: the owner elsewhere still signs in) for the cool-off.
LOGIN_LOCKOUT_ATTEMPTS = int(os.environ.get("LOGIN_LOCKOUT_ATTEMPTS", "5"))
LOGIN_LOCKOUT_WINDOW = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_WINDOW_MINUTES", "15")))
LOGIN_LOCKOUT_COOL_OFF = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
# The console signs a person out after this long without a request of theirs (HIPAA automatic
# log-off; the header's emergency count polling does not count as activity).
CONSOLE_IDLE_TIMEOUT_SECONDS = int(os.environ.get("CONSOLE_IDLE_TIMEOUT_SECONDS", "1800"))
# Second factor (django-otp): the issuer shown in the authenticator app next to the account.
OTP_TOTP_ISSUER = "PhysioTrack"

# --- Internationalisation: store UTC, convert per patient ------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
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

# --- Request limits -------------------------------------------------------------------------
# A batch sync of 100 session logs is about 300 KB; 1 MiB leaves room without inviting abuse.
REQUEST_BODY_MAX_BYTES = int(os.environ.get("REQUEST_BODY_MAX_BYTES", str(1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
# How long an Idempotency-Key's answer is kept for replay (backend.core.idempotency).
IDEMPOTENCY_KEY_TTL = timedelta(hours=int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24")))

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["backend.core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "backend.core.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "backend.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "backend.core.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_username": os.environ.get("THROTTLE_LOGIN_USERNAME", "5/min"),
        "login_ip": os.environ.get("THROTTLE_LOGIN_IP", "20/min"),
        "activation_ip": os.environ.get("THROTTLE_ACTIVATION_IP", "10/min"),
        "token_refresh": os.environ.get("THROTTLE_TOKEN_REFRESH", "30/min"),
        # Per user (backend.core.throttles): single writes, and offline batches of up to 100
        # logs (a phone back after a week sends one or two, and retries).
        "writes": os.environ.get("THROTTLE_WRITES", "120/min"),
        "sync": os.environ.get("THROTTLE_SYNC", "20/min"),
    },
    # 0: throttles key on the socket's address and ignore X-Forwarded-For, which any client
    # can forge. Behind N trusted reverse proxies set DJANGO_NUM_PROXIES=N.
    "NUM_PROXIES": int(os.environ.get("DJANGO_NUM_PROXIES", "0")),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "10"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "30"))),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY") or SECRET_KEY,
    "ALGORITHM": "HS256",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "PhysioTrack API",
    "DESCRIPTION": (
        "Backend of the PhysioTrack mobile app: supervised home-exercise programmes for "
        "juvenile dermatomyositis and other inflammatory myopathies. Authenticate with "
        "`POST /api/v1/auth/token/` and send `Authorization: Bearer <access>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "ENUM_NAME_OVERRIDES": {
        "UserRoleEnum": "backend.accounts.models.Role",
        "CareTeamRoleEnum": "backend.accounts.models.CareTeamRole",
        "ComponentStateEnum": "backend.core.apis.COMPONENT_STATES",
        "ProgrammeStatusEnum": "backend.exercise.models.ProgrammeStatus",
        "PauseReasonEnum": "backend.exercise.models.PauseReason",
        "IntensityScaleEnum": "backend.exercise.codes.IntensityScale",
        "LoadUnitEnum": "backend.exercise.codes.LoadUnit",
        "ProposalStatusEnum": "backend.exercise.models.ProposalStatus",
        "SyncStatusEnum": ["created", "duplicate", "invalid"],
        "AuditActionEnum": "backend.audit.models.Action",
        "AuditResourceEnum": "backend.audit.models.Resource",
    },
}

# --- Celery ---------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the stack uses kombu's filesystem transport: no server needed, for
# development only (without DEBUG start-up refuses it: core.E003).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
BROKER_VISIBILITY_TIMEOUT = 3600  # seconds; Redis only
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = RUN_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # else kombu writes ./control/
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # An unacknowledged task (acks_late, its worker killed) is given to another worker
        # after this long; the sweepers and the hourly job re-drive the same work sooner.
        # At least twice the longest hard time limit of a task, or a task still running
        # would be handed to a second worker (tests/core/test_queues.py checks it).
        "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
        # Without these a broker that accepts connections but never answers (a hung Redis,
        # a dead NAT entry) blocks every publish, and so every request that logs a session,
        # forever. Redis answers in milliseconds; a few seconds is already an outage.
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request publishes after its commit. One attempt, no retries: Celery's default of four costs
# 0.7 s per task when the broker refuses connections, and a second attempt doubles the wait on
# a broker that hangs. Nothing is lost: every such task is a row a sweeper re-drives.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 0}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Celery logs through Django's LOGGING (JSON lines), not its own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = False
# Queues by what waiting costs (README "Queues"); each has a consumer in docker-compose.yml and
# in Procfile.dev (tests/core/test_queues.py). A worker started without -Q consumes all four.
# Nothing goes to Celery's own "celery" queue: every task is routed here, and a task that is
# not lands on "default" (where a test notices it first).
CELERY_TASK_QUEUES = [Queue(name) for name in ("urgent", "default", "bulk", "jobs")]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # A person may be in danger: red flags and escalations never wait behind anything.
    # deliver_notification is routed per call (deliveries_enqueue): urgent for emergency and
    # urgent alerts and escalations, default for the rest.
    "alerts.deliver_notification": {"queue": "default"},
    "alerts.escalate_alerts": {"queue": "urgent"},
    "alerts.sweep_deliveries": {"queue": "urgent"},  # re-drives red flags the broker lost
    # One event's follow-up.
    "alerts.evaluate_decline": {"queue": "default"},
    "alerts.sweep_decline_checks": {"queue": "default"},
    # Mass sends.
    "alerts.deliver_notifications": {"queue": "bulk"},
    # Periodic jobs: coordinators and their chunks.
    "alerts.run_reminders": {"queue": "jobs"},
    "alerts.remind_chunk": {"queue": "jobs"},
    "alerts.evaluate_adherence": {"queue": "jobs"},
    "alerts.evaluate_adherence_chunk": {"queue": "jobs"},
    "alerts.kidney_overdue": {"queue": "jobs"},
    "accounts.purge_expired_credentials": {"queue": "jobs"},
    "alerts.purge_expired_records": {"queue": "jobs"},
    "audit.create_partitions": {"queue": "jobs"},
    # FHIR Bulk Data: an export runs minutes; its purge is a periodic job.
    "fhir.bulk_export": {"queue": "bulk"},
    "fhir.bulk_purge_expired": {"queue": "jobs"},
}

# --- FHIR Bulk Data export (backend/fhir/bulk, docs/fhir-bulk.md) ----------------------------
# NDJSON files of each export job live here (a volume shared by web and the bulk worker), and
# are deleted with their job this many hours after it finished (fhir.bulk_purge_expired).
FHIR_EXPORT_DIR = Path(os.environ.get("FHIR_EXPORT_DIR", RUN_DIR / "fhir-exports"))
FHIR_EXPORT_RETENTION_HOURS = int(os.environ.get("FHIR_EXPORT_RETENTION_HOURS", "24"))

# --- Retention (backend/alerts/services/retention.py, the daily alerts.purge_expired_records) --
# Read or unread notifications (with their deliveries) older than this go, except those about
# an alert that is not resolved; finished deliveries go sooner; sent reminders after a season.
# The clinical record (alerts, logs, assessments, adherence) and the audit trail never go here
# (the audit trail goes only a whole month at a time, below).
RETENTION_NOTIFICATIONS_DAYS = int(os.environ.get("RETENTION_NOTIFICATIONS_DAYS", "365"))
RETENTION_DELIVERIES_DAYS = int(os.environ.get("RETENTION_DELIVERIES_DAYS", "90"))
RETENTION_REMINDERS_DAYS = int(os.environ.get("RETENTION_REMINDERS_DAYS", "90"))
RETENTION_BATCH_SIZE = int(os.environ.get("RETENTION_BATCH_SIZE", "5000"))  # ids per DELETE
# A run stops after this long (the next run goes on); below the task's soft time limit.
RETENTION_TIME_BUDGET_SECONDS = int(os.environ.get("RETENTION_TIME_BUDGET_SECONDS", "240"))
# The audit trail (backend/audit/partitions.py): monthly partitions on PostgreSQL, created this
# many months ahead by the daily audit.create_partitions. Months older than
# AUDIT_RETENTION_MONTHS may be dropped whole by `manage.py audit_expire_partitions` (recorded
# in the trail); unset, the default, keeps the trail forever.
AUDIT_PARTITIONS_AHEAD_MONTHS = int(os.environ.get("AUDIT_PARTITIONS_AHEAD_MONTHS", "3"))
AUDIT_RETENTION_MONTHS = (
    int(os.environ["AUDIT_RETENTION_MONTHS"]) if os.environ.get("AUDIT_RETENTION_MONTHS") else None
)

# --- Alerts and notifications ----------------------------------------------------------------
ALERT_ESCALATE_EMERGENCY_MINUTES = int(os.environ.get("ALERT_ESCALATE_EMERGENCY_MINUTES", "30"))
ALERT_ESCALATE_URGENT_MINUTES = int(os.environ.get("ALERT_ESCALATE_URGENT_MINUTES", "240"))
# Repeated reports of one symptom tier for a patient within this many minutes of the last one
# update its unresolved alert (a count, the newest evidence) instead of raising and pushing again.
ALERT_COALESCE_MINUTES = int(os.environ.get("ALERT_COALESCE_MINUTES", "30"))
FCM_PROJECT_ID = os.environ.get("FCM_PROJECT_ID", "")
FCM_CREDENTIALS_FILE = os.environ.get("FCM_CREDENTIALS_FILE", "")
# Without DEBUG, start-up refuses the console fallback unless PUSH_SENDER names it (alerts.E001).
PUSH_SENDER_EXPLICIT = bool(os.environ.get("PUSH_SENDER"))
PUSH_SENDER = os.environ.get("PUSH_SENDER") or (
    "backend.alerts.push.FcmSender"
    if FCM_PROJECT_ID and FCM_CREDENTIALS_FILE
    else "backend.alerts.push.ConsoleSender"
)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "backend.alerts.mail.ConsoleEmailBackend"  # says who was e-mailed, never what
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))  # a hung SMTP server is a retry
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "PhysioTrack <noreply@localhost>")

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# CORS is closed unless origins are listed: the mobile app is not a browser and needs none.
CORS_ALLOWED_ORIGINS = env_list("DJANGO_CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (*default_cors_headers, "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Idempotent-Replayed", "Retry-After", "ETag"]
SESSION_COOKIE_HTTPONLY = True
# Strict Content-Security-Policy (django-csp): no inline script or style anywhere in the
# console; its charts are inline SVG (presentation attributes) and its QR code a data: image
# at most. The API docs (Swagger UI, ReDoc) and the admin ship inline scripts and styles of
# their own and are left without the header; they are not patient-facing pages.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/", "/api/redoc/", f"/{ADMIN_URL}"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # /health/ is probed over plain HTTP by the load balancer and container healthchecks.
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

# --- Logging: one JSON object per line on stdout, with the request id ------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "celery": {"level": LOG_LEVEL},
    },
}
