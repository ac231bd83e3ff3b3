from rest_framework import serializers

from backend.alerts.models import Notification


class NotificationOutput(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "patient",
            "subject_type",
            "subject_id",
            "created_at",
            "read_at",
        ]
