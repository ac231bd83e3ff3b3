from __future__ import annotations

from django.db.models import QuerySet

from backend.accounts.models import User
from backend.alerts.models import Notification


def notifications_of(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)
