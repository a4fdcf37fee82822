"""Django settings. Everything an operator may change comes from CREDITFILE_* variables."""

import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from creditfile.env import env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("CREDITFILE_DATA_DIR", "creditfile-data")).resolve()


def _secret_key() -> str:
    """Use the configured key, else one generated once and kept in the data folder."""
    configured = env_str("CREDITFILE_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = env_bool("CREDITFILE_DEBUG", False)
ALLOWED_HOSTS = env_list("CREDITFILE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CREDITFILE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "ninja",  # serves the API docs' swagger-ui from its own static files, no CDN
    "creditfile.core",
    "creditfile.customers",
    "creditfile.credit",
    "creditfile.receivables",
    "creditfile.access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "creditfile.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "creditfile.core.middleware.RequestContextMiddleware",
    "creditfile.core.session_rules.SessionTimeoutMiddleware",
    "creditfile.core.middleware.LoginRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
    "csp.middleware.CSPMiddleware",
    "creditfile.core.middleware.NoStoreMiddleware",
    "creditfile.access.middleware.DeniedCustomerMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from our own static files (no inline
# script, no eval: templates use data- attributes handled by creditfile/app.js); inline
# style attributes are allowed, they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

ROOT_URLCONF = "creditfile.urls"
WSGI_APPLICATION = "creditfile.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "creditfile.core.context_processors.navigation",
            ],
        },
    },
]


def _database() -> dict:
    url = env_str("CREDITFILE_DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=env_int("CREDITFILE_CONN_MAX_AGE", 60))
        if config["ENGINE"] == "django.db.backends.postgresql":
            # JIT compiles any plan whose estimated cost passes 100,000 (+20 ms on a list
            # query that runs in 2 ms); it pays off for reports, not for OLTP pages.
            options = config.setdefault("OPTIONS", {})
            options["options"] = f"-c jit=off {options.get('options', '')}".strip()
            # psycopg prepares a statement run five times on a connection; Django turns
            # that off for connection poolers. Only the hot written-out queries bind on the
            # server (core/services/rows.cursor), so only they are prepared. Behind a pooler
            # in transaction mode without prepared-statement support, set this to 0.
            if env_bool("CREDITFILE_PREPARED_STATEMENTS", True):
                options.setdefault("prepare_threshold", 5)
            config.setdefault("TEST", {})["NAME"] = env_str(
                "CREDITFILE_TEST_DATABASE_NAME", "test_creditfile"
            )
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        # Django's SQLite backend; writers queue on a kernel lock (creditfile/core/db).
        "ENGINE": "creditfile.core.db.sqlite3",
        "NAME": DATA_DIR / "creditfile.sqlite3",
        "OPTIONS": {
            # WAL lets readers go on while one writer commits; IMMEDIATE takes the
            # write lock at BEGIN so two writers queue instead of failing mid-transaction.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA cache_size=-64000;"
            ),
            "transaction_mode": "IMMEDIATE",
        },
        # Keep the connection (and its PRAGMAs) across requests, as for PostgreSQL.
        "CONN_MAX_AGE": env_int("CREDITFILE_CONN_MAX_AGE", 60),
        # Tests use a file too, never Django's in-memory default: concurrency tests and
        # the browser tests' live server open several connections at once, and a shared
        # in-memory database locks whole tables instead of queueing writers like WAL does.
        "TEST": {
            "NAME": env_str("CREDITFILE_SQLITE_TEST_FILE")
            or (str(DATA_DIR / "test.sqlite3") if env_bool("CREDITFILE_TESTING", False) else None)
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_URL_PATH = "/accounts/login/"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

# django-axes: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("CREDITFILE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("CREDITFILE_LOGIN_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Sudo mode (core/sudo.py): minutes a re-typed password covers sensitive actions.
SUDO_MINUTES = env_int("CREDITFILE_SUDO_MINUTES", 15)

LANGUAGE_CODE = "zh-hans"
FORMAT_MODULE_PATH = ["creditfile.formats"]
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded files live in the data folder, never under a static root: they are
# only ever served by a view that checks the user may see the customer.
MEDIA_ROOT = Path(env_str("CREDITFILE_FILES_DIR", str(DATA_DIR / "files"))).resolve()
ATTACHMENT_MAX_BYTES = env_int("CREDITFILE_ATTACHMENT_MAX_MB", 20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Sessions carry their user (core/sessions.py) so deactivating a user ends them all;
# core/session_rules.py ends a session after the idle or the absolute time.
SESSION_ENGINE = "creditfile.core.sessions"
SESSION_ABSOLUTE_SECONDS = env_int("CREDITFILE_SESSION_HOURS", 10) * 3600
SESSION_IDLE_SECONDS = env_int("CREDITFILE_SESSION_IDLE_MINUTES", 30) * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Production behind HTTPS (docs/operations.md): CREDITFILE_HTTPS=true turns on the
# redirect to https, HSTS and secure cookies — what `check --deploy` asks for. Behind a
# TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients), also
# set CREDITFILE_TRUST_PROXY_PROTO=true.
HTTPS = env_bool("CREDITFILE_HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("CREDITFILE_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HTTPS and env_bool("CREDITFILE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("CREDITFILE_HSTS_SECONDS", 31536000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("CREDITFILE_TRUST_PROXY_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

STALE_AFTER_DAYS = env_int("CREDITFILE_STALE_AFTER_DAYS", 30)
# Letterhead of printed cards, reports and letters.
COMPANY_NAME = env_str("CREDITFILE_COMPANY_NAME", "")

# Outgoing e-mail (weekly violation summaries to managers). No host: nothing is e-mailed,
# the summaries are only shown on the managers' page.
EMAIL_HOST = env_str("CREDITFILE_EMAIL_HOST", "")
EMAIL_PORT = env_int("CREDITFILE_EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("CREDITFILE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("CREDITFILE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("CREDITFILE_EMAIL_TLS", False)
EMAIL_USE_SSL = env_bool("CREDITFILE_EMAIL_SSL", False)
EMAIL_TIMEOUT = env_int("CREDITFILE_EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("CREDITFILE_EMAIL_FROM", "creditfile@localhost")

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CREDITFILE_LOG_LEVEL", "WARNING")},
}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if env_bool("CREDITFILE_TESTING", False)
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
# Serve static files straight from the installed packages too, so `creditfile up`
# works before (or without) collectstatic.
WHITENOISE_USE_FINDERS = True
