"""Liveness of what the API depends on: the database and the Celery broker."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("health: database unreachable")
        return False
    return True


def broker_ok(timeout: int = 2) -> bool:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
            broker.ensure_connection(max_retries=1, timeout=timeout)
    except Exception:  # any failure to connect means "down"; the log has why
        logger.warning("health: broker unreachable", exc_info=True)
        return False
    return True
