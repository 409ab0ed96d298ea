"""Settings for every environment, switched by environment variables only.

Embedded default (no variables set): SQLite under var/ and Celery on kombu's filesystem
transport under var/celery/, so one machine with nothing but Python runs web, worker and beat.
Production: DATABASE_URL (PostgreSQL) and REDIS_URL (broker) switch the same code over.
"""

import secrets
from pathlib import Path

import environ
from celery.schedules import crontab
from django.templatetags.static import static
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("INSURANCE_ADMIN_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env.read_env(BASE_DIR / ".env", overwrite=False)


def _secret_key() -> str:
    """A stable key per installation: from the environment, else generated once under var/."""
    if key := env.str("DJANGO_SECRET_KEY", default=""):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    "django_celery_beat",
    "insurance_admin.accounts",
    "insurance_admin.core",
    "programs",
    "claims",
    "finance",
    # the supervision layer (above finance): KPIs, complaints, staffing, periodic reports,
    # assessments, dashboards
    "insurance_admin.kpis",
    "insurance_admin.complaints",
    "insurance_admin.staffing",
    "insurance_admin.reporting",
    "insurance_admin.assessments",
    "insurance_admin.dashboards",
    # the project on top: loads the Celery app (insurance_admin/apps.py)
    "insurance_admin.apps.ProjectConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Content-Security-Policy (SECURE_CSP; the admin's SECURE_CSP_ADMIN, chosen by the next one)
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # X-Frame-Options DENY everywhere, no-store for signed-in users, the admin's CSP
    "insurance_admin.core.middleware.SecurityHeadersMiddleware",
    # Before anything reads the database: web requests wait at most WEB_LOCK_TIMEOUT_MS for a lock.
    "insurance_admin.core.middleware.LockTimeoutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # SESSION_IDLE_TIMEOUT: a signed-in session idle that long is signed out
    "insurance_admin.core.middleware.SessionIdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes must be last: it turns a locked-out login into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "insurance_admin.urls"
WSGI_APPLICATION = "insurance_admin.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "insurance_admin.core.context_processors.navigation",
                "insurance_admin.workbench.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web process read while the other writes; IMMEDIATE makes a
    # writing transaction take the lock at BEGIN instead of failing at its first write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL: how long a web request waits for a table or row lock before the page says what
# holds it (a bulk enrollment list locks the registry for ~20 s); 0 waits as long as it takes.
WEB_LOCK_TIMEOUT_MS = env.int("WEB_LOCK_TIMEOUT_MS", default=3000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Signed out after this many seconds without a request (shared window terminals); 0 = never.
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=15 * 60)

# Failed-login throttling (django-axes): lock a username+IP pair after 5 failures for 30 min.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# the "any value" choice of every list filter (django-filter's default is a row of dashes)
FILTERS_EMPTY_CHOICE_LABEL = _("All")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Cache: shared by the web and worker processes (import progress is not kept here: insurance_admin/core/imports/progress.py)
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
}

# --- Celery -------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
else:
    # Embedded default: a real broker on the local disk, so web, worker and beat run as
    # separate processes exactly as in production, without a Redis server.
    _broker_dir = VAR_DIR / "celery"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # the exchange tables; kombu's default is "control" in the working directory
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # progress and outcomes live in our own tables
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {
        "task": "insurance_admin.core.tasks.record_heartbeat",
        "schedule": 60.0,
        "kwargs": {"source": "beat"},
    },
    # Taikang's revolving fund is topped up monthly (seed 002): last month's amount on the 1st.
    "revolving-fund-topups": {
        "task": "finance.tasks.revolving_topups_monthly",
        "schedule": crontab(minute=30, hour=6, day_of_month=1),
    },
    # Deadlines (issue 20): states, reminders and escalations every morning, local time.
    "deadlines-daily-scan": {
        "task": "insurance_admin.core.tasks.deadlines_scan",
        "schedule": crontab(minute=0, hour=6),
    },
    # Periodic reports (issue 20): every report whose period has ended, before the deadline scan.
    "reports-daily": {
        "task": "insurance_admin.reporting.tasks.reports_daily",
        "schedule": crontab(minute=30, hour=5),
    },
    # Staging tables of registry imports nobody confirmed, finished or will restart.
    "registry-stages-clean": {
        "task": "programs.tasks.import_stages_clean_task",
        "schedule": crontab(minute=15, hour=3),
    },
    # The supervisor's dashboard reads pre-aggregated claim figures (issue 21): every 10 minutes.
    "kpi-rollup-refresh": {
        "task": "insurance_admin.kpis.tasks.rollup_refresh",
        "schedule": 600.0,
    },
}
# Deadline reminders: calendar days before the due date per deadline kind ("default" for the
# rest); days after the due date when the escalation role is told; who that is.
DEADLINE_DUE_SOON_DAYS = {"default": 5, "claim_service": 3, "premium_installment": 10}
DEADLINE_ESCALATE_AFTER_DAYS = env.int("DEADLINE_ESCALATE_AFTER_DAYS", default=3)
DEADLINE_ESCALATION_ROLE = "supervisor"
# --- E-mail (reminders): console in the embedded default; production sets EMAIL_BACKEND (SMTP) and EMAIL_HOST…
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@insurance-admin.local")
SITE_URL = env.str("SITE_URL", default="")  # prefixes the links in reminder e-mails
# Every import (enrollment lists, hospital files) refuses a larger upload (insurance_admin/core/imports).
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=1 << 30)
# The admin's small imports (django-import-export: preview held in memory, then confirm) refuse
# larger files with the same message; large lists go through the batch import pages.
ADMIN_IMPORT_MAX_FILE_BYTES = env.int("ADMIN_IMPORT_MAX_FILE_BYTES", default=20 << 20)
REGISTRY_STAGE_KEEP_DAYS = 7  # an unconfirmed or failed import keeps its checked rows this long
REGISTRY_BULK_MIN_ROWS = 100_000  # a first list this big (and >= the registry) rebuilds indexes

# --- import-export ---------------------------------------------------------------------------
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# --- Admin theme (django-unfold, assets served locally: no CDN) --------------------------
UNFOLD = {
    "SITE_TITLE": _("Supplementary insurance back office"),
    "SITE_HEADER": _("Supplementary insurance back office"),
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": True,
    "SIDEBAR": {"show_search": True, "show_all_applications": True},
    # related-object forms and look-ups in pop-up windows, not unfold's iframe (X-Frame-Options DENY)
    "SCRIPTS": [lambda request: static("js/admin_popups.js")],
    # the admin fits a 1366-px screen without sideways scrolling (static/css/admin.css)
    "STYLES": [lambda request: static("css/admin.css")],
}

# Every handler masks full ID numbers in what it writes (request paths carry `?q=<ID number>`):
# insurance_admin/core/logmasking.py; gunicorn's access log gets the same filter in CoreConfig.ready.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_identities": {"()": "insurance_admin.core.logmasking.IdentityMaskingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_identities"]},
        # runserver's request lines (Django's own django.server handler, with the filter)
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["mask_identities"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        # Django's default console and mail_admins handlers have no mask (and ADMINS is not
        # set): its records ("Not Found: /?q=...") reach the masked root handler instead
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

# --- Content-Security-Policy (Django's own middleware): only this site's files; an inline
# <script>/<style> runs only with the request's nonce (`{{ csp_nonce }}`). Style attributes stay
# allowed (style-src-attr): progress bars and chart boxes are sized by them, and CSS in an
# attribute can neither run script nor read the page. The admin (django-unfold: Alpine.js
# evaluates its expressions, inline <style> blocks) gets SECURE_CSP_ADMIN from
# SecurityHeadersMiddleware.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CSP_ADMIN = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, CSP.NONCE, CSP.UNSAFE_EVAL],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],  # a nonce here would switch 'unsafe-inline' off
}
X_FRAME_OPTIONS = "DENY"  # and SecurityHeadersMiddleware overrides views that ask for SAMEORIGIN

# HTTPS only, told to browsers (HSTS): set once the site is served over HTTPS alone.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False) else None

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- SMS (programs/sms.py): console in the embedded default, the provider's gateway in production
SMS_BACKEND = env.str("SMS_BACKEND", default="programs.sms.ConsoleBackend")
# HttpGatewayBackend: the gateway's URL, its bearer token, the SMS signature (短信签名) and
# the seconds to wait for an answer; a message not handed over is tried SMS_MAX_ATTEMPTS times
# in all, the waits doubling from SMS_RETRY_SECONDS.
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_SIGN = env.str("SMS_GATEWAY_SIGN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
SMS_RETRY_SECONDS = env.int("SMS_RETRY_SECONDS", default=60)
