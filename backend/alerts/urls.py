from django.urls import path

from backend.alerts import apis

urlpatterns = [
    path("notifications/", apis.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/<id:notification_id>/read/",
        apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
