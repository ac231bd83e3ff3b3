from django.urls import URLPattern, URLResolver, path

from backend.console.views import patients

urlpatterns: list[URLPattern | URLResolver] = [
    path("", patients.patient_list, name="patients"),
    path("<int:patient_id>/", patients.patient_detail, name="patient"),
    path(
        "<int:patient_id>/assessments/new/",
        patients.assessment_new,
        name="assessment_new",
    ),
    path("<int:patient_id>/rule-settings/", patients.rule_settings, name="rule_settings"),
]
