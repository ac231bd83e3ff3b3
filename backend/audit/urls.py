from django.urls import path

from backend.audit import apis

urlpatterns = [
    path("audit/", apis.AuditEventListApi.as_view(), name="audit"),
    path("me/access-log/", apis.AccessLogApi.as_view(), name="me-access-log"),
    path("me/export/", apis.ExportApi.as_view(), name="me-export"),
]
