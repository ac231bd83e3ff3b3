from django.urls import path

from backend.alerts import apis

urlpatterns = [
    path("alerts/", apis.AlertListApi.as_view(), name="alerts"),
    path(
        "alerts/<id:alert_id>/acknowledge/",
        apis.AlertAcknowledgeApi.as_view(),
        name="alert-acknowledge",
    ),
    path("alerts/<id:alert_id>/resolve/", apis.AlertResolveApi.as_view(), name="alert-resolve"),
    path("rules/", apis.RuleCatalogueApi.as_view(), name="rules"),
    path(
        "patients/<id:patient_id>/rule-settings/",
        apis.PatientRuleSettingsApi.as_view(),
        name="rule-settings",
    ),
    path("notifications/", apis.NotificationListApi.as_view(), name="notifications"),
    path(
        "notifications/<id:notification_id>/read/",
        apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
