from django.urls import path

from backend.symptoms import apis

urlpatterns = [
    path("symptoms/", apis.SymptomReportListCreateApi.as_view(), name="symptoms"),
]
