from django.urls import URLPattern, URLResolver, path

from backend.console.views import enrol

urlpatterns: list[URLPattern | URLResolver] = [
    path("", enrol.enrol_patient, name="enrol"),
    path("<id:patient_id>/caregiver/", enrol.caregiver_invite, name="enrol-caregiver"),
    path("<id:patient_id>/code/", enrol.activation_code_reissue, name="enrol-code"),
]
