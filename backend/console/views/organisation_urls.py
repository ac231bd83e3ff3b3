from django.urls import URLPattern, URLResolver, path

from backend.console.views import organisation

urlpatterns: list[URLPattern | URLResolver] = [
    path("", organisation.organisation_home, name="organisation"),
    path(
        "people/<id:user_id>/deactivate/",
        organisation.person_deactivate,
        name="organisation-deactivate",
    ),
    path("care-teams/", organisation.care_team_list, name="organisation-care-teams"),
    path(
        "care-teams/<id:patient_id>/",
        organisation.care_team_manage,
        name="organisation-care-team",
    ),
    path(
        "care-teams/<id:patient_id>/seats/<id:membership_id>/remove/",
        organisation.care_team_remove,
        name="organisation-care-team-remove",
    ),
]
