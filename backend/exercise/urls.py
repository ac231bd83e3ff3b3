from django.urls import path

from backend.exercise.apis import assessments, library, programmes, sessions, templates

urlpatterns = [
    path("exercises/", library.ExerciseListCreateApi.as_view(), name="exercises"),
    path("exercises/<id:exercise_id>/", library.ExerciseDetailApi.as_view(), name="exercise"),
    path("programmes/", programmes.ProgrammeListCreateApi.as_view(), name="programmes"),
    path("programmes/current/", programmes.ProgrammeCurrentApi.as_view(), name="programme-current"),
    path(
        "programmes/<id:programme_id>/", programmes.ProgrammeDetailApi.as_view(), name="programme"
    ),
    path(
        "programmes/<id:programme_id>/versions/",
        programmes.ProgrammeVersionsApi.as_view(),
        name="programme-versions",
    ),
    path(
        "programmes/<id:programme_id>/activate/",
        programmes.ProgrammeActivateApi.as_view(),
        name="programme-activate",
    ),
    path(
        "programmes/<id:programme_id>/pause/",
        programmes.ProgrammePauseApi.as_view(),
        name="programme-pause",
    ),
    path(
        "programmes/<id:programme_id>/complete/",
        programmes.ProgrammeCompleteApi.as_view(),
        name="programme-complete",
    ),
    path(
        "programmes/<id:programme_id>/save-as-template/",
        templates.ProgrammeSaveAsTemplateApi.as_view(),
        name="programme-save-as-template",
    ),
    path(
        "programme-templates/",
        templates.TemplateListCreateApi.as_view(),
        name="programme-templates",
    ),
    path(
        "programme-templates/<id:template_id>/",
        templates.TemplateDetailApi.as_view(),
        name="programme-template",
    ),
    path(
        "programme-templates/<id:template_id>/prescribe/",
        templates.TemplatePrescribeApi.as_view(),
        name="programme-template-prescribe",
    ),
    path("progression-proposals/", programmes.ProposalListApi.as_view(), name="proposals"),
    path(
        "progression-proposals/<id:proposal_id>/accept/",
        programmes.ProposalAcceptApi.as_view(),
        name="proposal-accept",
    ),
    path(
        "progression-proposals/<id:proposal_id>/dismiss/",
        programmes.ProposalDismissApi.as_view(),
        name="proposal-dismiss",
    ),
    path("sessions/", sessions.SessionListCreateApi.as_view(), name="sessions"),
    path("sessions/sync/", sessions.SessionSyncApi.as_view(), name="sessions-sync"),
    path("sessions/<id:session_id>/", sessions.SessionDetailApi.as_view(), name="session"),
    path("assessments/", assessments.AssessmentListCreateApi.as_view(), name="assessments"),
    path("patients/", assessments.PatientOverviewApi.as_view(), name="patients"),
    path(
        "patients/<id:patient_id>/summary/",
        assessments.PatientSummaryApi.as_view(),
        name="patient-summary",
    ),
    path(
        "patients/<id:patient_id>/assessments/trend/",
        assessments.AssessmentTrendApi.as_view(),
        name="assessment-trend",
    ),
]
