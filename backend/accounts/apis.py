"""HTTP endpoints of the accounts area: thin views over services and selectors."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.tokens import RefreshToken

from backend.accounts import selectors, services
from backend.accounts.lockout import LoginLocked, login_attempts_of
from backend.accounts.models import CareTeamMembership, PatientProfile, Role, User
from backend.accounts.serializers import (
    ActivatedOutput,
    ActivateInput,
    CaregiverInvitedOutput,
    CaregiverInviteInput,
    CareTeamAddInput,
    CareTeamMemberOutput,
    DeactivatedOutput,
    DeviceOutput,
    DeviceRegisterInput,
    LogoutInput,
    MeOutput,
    PatientCreatedOutput,
    PatientCreateInput,
    PatientOutput,
    PatientUpdateInput,
)
from backend.accounts.throttles import (
    ActivationIpThrottle,
    LoginIpThrottle,
    LoginUsernameThrottle,
    TokenRefreshIpThrottle,
)
from backend.audit.models import Action, Resource
from backend.audit.services import record_access
from backend.core.errors import DomainError, require_role
from backend.core.idempotency import idempotent
from backend.core.serializers import ErrorSerializer
from backend.core.throttles import WriteThrottle


def current_user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  # IsAuthenticated guarantees a real user
    return user


@extend_schema(tags=["auth"])
class TokenObtainApi(jwt_views.TokenObtainPairView):
    """Sign in with username and password; returns a short-lived access and a refresh token.
    Repeated failures for one username from one network lock that pair for a while (429)."""

    throttle_classes = [LoginIpThrottle, LoginUsernameThrottle]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        attempts = login_attempts_of(request)
        if attempts is not None and (wait := attempts.locked_for()):
            raise LoginLocked(wait=wait)  # even the right password waits out the cool-off
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            LoginUsernameThrottle().failed(request, self)
            if attempts is not None:
                attempts.failed()
            raise
        if attempts is not None:
            attempts.succeeded()
        return response


@extend_schema(tags=["auth"])
class TokenRefreshApi(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""

    throttle_classes = [TokenRefreshIpThrottle]


@extend_schema(tags=["auth"], request=LogoutInput, responses={204: None, 401: ErrorSerializer})
class LogoutApi(APIView):
    """Revoke a refresh token (sign out on this phone)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []  # a stale access token must not block sign-out
    throttle_classes = [TokenRefreshIpThrottle]

    @idempotent
    def post(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.refresh_token_revoke(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"], request=ActivateInput, responses={200: ActivatedOutput})
class ActivateApi(APIView):
    """Set a password with the one-time code from the care team, and sign in."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ActivationIpThrottle]

    @transaction.atomic  # the write and its audit event commit together
    def post(self, request: Request) -> Response:
        data = ActivateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.account_activate(**data.validated_data)
        record_access(request, Action.ACTIVATE, Resource.USER, [user], actor=user)
        refresh = RefreshToken.for_user(user)
        body = {
            "username": user.username,
            "access": str(refresh.access_token),
            "refresh": str(refresh),
        }
        return Response(ActivatedOutput(body).data)


@extend_schema(tags=["me"])
class MeApi(APIView):
    @extend_schema(responses={200: MeOutput})
    def get(self, request: Request) -> Response:
        """Who I am: role, organisation, and for a patient the profile and care team."""
        return Response(MeOutput(selectors.user_with_context(current_user(request))).data)


@extend_schema(tags=["devices"])
class DeviceListCreateApi(APIView):
    throttle_classes = [WriteThrottle]  # POST only: reads are not counted

    @extend_schema(responses={200: DeviceOutput(many=True)})
    def get(self, request: Request) -> Response:
        """My registered push devices."""
        return Response(DeviceOutput(selectors.devices_of(current_user(request)), many=True).data)

    @extend_schema(
        request=DeviceRegisterInput,
        responses={
            201: DeviceOutput,
            200: OpenApiResponse(DeviceOutput, "Already registered."),
            409: ErrorSerializer,
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Register this phone for push notifications (safe to repeat)."""
        data = DeviceRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, created = services.device_register(
            user=current_user(request), **data.validated_data
        )
        record_access(
            request, Action.CREATE if created else Action.UPDATE, Resource.DEVICE, [device]
        )
        return Response(
            DeviceOutput(device).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


@extend_schema(tags=["devices"], responses={204: None})
class DeviceDeleteApi(APIView):
    def delete(self, request: Request, device_id: int) -> Response:
        """Stop push notifications to this phone."""
        device = get_object_or_404(selectors.devices_of(current_user(request)), pk=device_id)
        with transaction.atomic():  # recorded first (delete() clears the id), kept only if done
            record_access(request, Action.DELETE, Resource.DEVICE, [device])
            services.device_unregister(device=device)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatientFilter(filters.FilterSet):
    q = filters.CharFilter(method="search", label="Text in the patient's name or username")
    activated = filters.BooleanFilter(field_name="user__is_active")

    class Meta:
        model = PatientProfile
        fields = ["q", "activated"]

    def search(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(
            Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(user__username__icontains=value)
        )


@extend_schema(tags=["patients"])
class PatientListCreateApi(generics.GenericAPIView):
    serializer_class = PatientOutput
    filterset_class = PatientFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return PatientProfile.objects.none()
        return selectors.patient_profiles_with_team(current_user(self.request))

    @extend_schema(responses={200: PatientOutput(many=True)})
    def get(self, request: Request) -> Response:
        """The patients I may see: myself, those I care for, or those on my care teams."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(PatientOutput(page, many=True).data)

    @extend_schema(
        request=PatientCreateInput, responses={201: PatientCreatedOutput, 403: ErrorSerializer}
    )
    @idempotent
    def post(self, request: Request) -> Response:
        """Enrol a patient (physiotherapists). The answer carries the one-time activation code."""
        data = PatientCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["timezone_name"] = fields.pop("timezone")
        created = services.patient_create(by=current_user(request), **fields)
        patient = selectors.patient_get(viewer=current_user(request), patient_id=created.patient.pk)
        record_access(request, Action.CREATE, Resource.PATIENT, [patient])
        body = {"patient": patient, "activation": created.activation}
        return Response(PatientCreatedOutput(body).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["patients"])
class PatientDetailApi(APIView):
    @extend_schema(responses={200: PatientOutput})
    def get(self, request: Request, patient_id: int) -> Response:
        """One patient's profile and care team."""
        patient = selectors.patient_get(viewer=current_user(request), patient_id=patient_id)
        record_access(request, Action.READ, Resource.PATIENT, [patient])
        return Response(PatientOutput(patient).data)

    @extend_schema(request=PatientUpdateInput, responses={200: PatientOutput, 403: ErrorSerializer})
    @transaction.atomic  # the write and its audit event commit together
    def patch(self, request: Request, patient_id: int) -> Response:
        """Change reminder preferences (patient, caregiver, care team) or clinical details
        (care team only)."""
        viewer = current_user(request)
        patient = selectors.patient_get(viewer=viewer, patient_id=patient_id)
        data = PatientUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.patient_profile_update(
            patient=patient, by=viewer, changes=dict(data.validated_data)
        )
        record_access(request, Action.UPDATE, Resource.PATIENT, [patient])
        return Response(
            PatientOutput(selectors.patient_get(viewer=viewer, patient_id=patient_id)).data
        )


def _patient_for_clinician(request: Request, patient_id: int) -> PatientProfile:
    """The patient, for a care-team clinician; 404 if not visible, 403 if visible but not staff."""
    viewer = current_user(request)
    patient = selectors.patient_get(viewer=viewer, patient_id=patient_id)
    if not viewer.is_clinician:
        raise DomainError("Only the care team may do this.", code="permission_denied", status=403)
    return patient


@extend_schema(
    tags=["patients"],
    request=None,
    responses={201: PatientCreatedOutput, 403: ErrorSerializer, 409: ErrorSerializer},
)
class PatientActivationCodeApi(APIView):
    @idempotent
    def post(self, request: Request, patient_id: int) -> Response:
        """Issue a new activation code (the previous one stops working)."""
        patient = _patient_for_clinician(request, patient_id)
        issued = services.activation_code_issue(user=patient.user, by=current_user(request))
        record_access(
            request,
            Action.CREATE,
            Resource.ACTIVATION_CODE,
            [patient.user],
            patient_of=lambda _: patient.pk,
        )
        body = {"patient": patient, "activation": issued}
        return Response(PatientCreatedOutput(body).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["care team"])
class CareTeamApi(APIView):
    @extend_schema(responses={200: CareTeamMemberOutput(many=True)})
    def get(self, request: Request, patient_id: int) -> Response:
        """The clinicians on the patient's care team."""
        patient = selectors.patient_get(viewer=current_user(request), patient_id=patient_id)
        record_access(request, Action.READ, Resource.CARE_TEAM_MEMBERSHIP, patient.care_team.all())
        return Response(CareTeamMemberOutput(patient.care_team.all(), many=True).data)

    @extend_schema(
        request=CareTeamAddInput, responses={201: CareTeamMemberOutput, 403: ErrorSerializer}
    )
    @idempotent
    def post(self, request: Request, patient_id: int) -> Response:
        """Add a clinician of the organisation to the care team (safe to repeat)."""
        patient = _patient_for_clinician(request, patient_id)
        data = CareTeamAddInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.care_team_member_add(
            patient=patient,
            member_id=data.validated_data["member_id"],
            by=current_user(request),
            role=data.validated_data.get("role"),
        )
        record_access(request, Action.CREATE, Resource.CARE_TEAM_MEMBERSHIP, [membership])
        return Response(CareTeamMemberOutput(membership).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["care team"], responses={204: None, 403: ErrorSerializer, 409: ErrorSerializer}
)
class CareTeamMemberApi(APIView):
    def delete(self, request: Request, patient_id: int, membership_id: int) -> Response:
        """Remove a clinician from the care team (the last physiotherapist stays)."""
        patient = _patient_for_clinician(request, patient_id)
        membership = get_object_or_404(CareTeamMembership, pk=membership_id, patient=patient)
        with transaction.atomic():  # recorded first (delete() clears the id), kept only if done
            record_access(request, Action.DELETE, Resource.CARE_TEAM_MEMBERSHIP, [membership])
            services.care_team_member_remove(membership=membership, by=current_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["care team"],
    request=CaregiverInviteInput,
    responses={201: CaregiverInvitedOutput, 403: ErrorSerializer},
)
class CaregiverInviteApi(APIView):
    @idempotent
    def post(self, request: Request, patient_id: int) -> Response:
        """Add a parent or guardian; the answer carries their one-time activation code."""
        patient = _patient_for_clinician(request, patient_id)
        data = CaregiverInviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        invited = services.caregiver_invite(
            patient=patient, by=current_user(request), **data.validated_data
        )
        record_access(request, Action.CREATE, Resource.CAREGIVER_LINK, [invited.link])
        return Response(CaregiverInvitedOutput(invited).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["accounts"], request=None, responses={200: DeactivatedOutput, 403: ErrorSerializer}
)
class UserDeactivateApi(APIView):
    @idempotent
    def post(self, request: Request, user_id: int) -> Response:
        """Deactivate an account (organisation admins: anyone of the organisation;
        physiotherapists: their patients and the patients' caregivers). Sign-in stops at once
        and every session is revoked; the clinical record is kept (retention in README).
        Safe to repeat."""
        viewer = current_user(request)
        require_role(
            viewer,
            {Role.ORG_ADMIN, Role.PHYSIOTHERAPIST},
            "Only organisation admins and physiotherapists may deactivate accounts.",
        )
        user = get_object_or_404(selectors.users_deactivatable_by(viewer), pk=user_id)
        revoked = services.account_deactivate(user=user, by=viewer)
        profile = getattr(user, "patient_profile", None)
        record_access(
            request,
            Action.DEACTIVATE,
            Resource.USER,
            [user],
            patient_of=lambda _: profile.pk if profile is not None else None,
        )
        user.refresh_tokens_revoked = revoked  # type: ignore[attr-defined]  # for the output
        return Response(DeactivatedOutput(user).data)
