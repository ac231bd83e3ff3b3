"""Settings for `make bench`: production settings plus the baseline views (bench/urls.py)."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("JWT_ACCESS_MINUTES", "240")  # a full run outlasts the default 10 minutes

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The bench drives one account hard from one address: throttles would measure themselves.
_rates = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # noqa: F405
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(_rates, "1000000/min"),
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
