from django.urls import path

from backend.accounts import apis

urlpatterns = [
    path("auth/token/", apis.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", apis.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    path("auth/activate/", apis.ActivateApi.as_view(), name="auth-activate"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("devices/", apis.DeviceListCreateApi.as_view(), name="devices"),
    path("devices/<id:device_id>/", apis.DeviceDeleteApi.as_view(), name="device-detail"),
    # patients/ (list and enrolment) is served by backend.exercise, which adds activity.
    path("patients/<id:patient_id>/", apis.PatientDetailApi.as_view(), name="patient-detail"),
    path(
        "patients/<id:patient_id>/activation-code/",
        apis.PatientActivationCodeApi.as_view(),
        name="patient-activation-code",
    ),
    path("patients/<id:patient_id>/care-team/", apis.CareTeamApi.as_view(), name="care-team"),
    path(
        "patients/<id:patient_id>/care-team/<id:membership_id>/",
        apis.CareTeamMemberApi.as_view(),
        name="care-team-member",
    ),
    path(
        "users/<id:user_id>/deactivate/", apis.UserDeactivateApi.as_view(), name="user-deactivate"
    ),
    path(
        "patients/<id:patient_id>/caregivers/",
        apis.CaregiverInviteApi.as_view(),
        name="caregivers",
    ),
]
