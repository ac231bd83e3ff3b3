"""Test settings: the base module with a fixed key, fast hashing and no network by default.

DATABASE_URL, CELERY_BROKER_URL and CACHE_URL still select real PostgreSQL and Redis
(as .ci/run does); without them the suite runs on SQLite with in-memory brokers.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"] = {  # noqa: F405
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {"NAME": ":memory:"},
    }
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LOGGING["root"] = {"handlers": ["stdout"], "level": "WARNING"}  # noqa: F405
PUSH_SENDER_EXPLICIT = True  # the console sender on purpose (alerts.E001); tests swap in fakes
# The suite runs its in-memory broker and cache on purpose (core.E001-E003); tests of those
# checks turn this off.
SINGLE_PROCESS_ALLOWED = True
