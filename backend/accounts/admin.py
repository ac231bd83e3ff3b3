from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from backend.accounts.models import (
    CLINICIAN_ROLES,
    ActivationCode,
    CaregiverLink,
    CareTeamMembership,
    Organisation,
    PatientProfile,
    PushDevice,
    Role,
    ServiceAccount,
    User,
)
from backend.accounts.service_accounts import service_account_create, service_account_revoke
from backend.accounts.services import (
    account_deactivate,
    account_pending_activation,
    account_reactivate,
    role_grant_needs_activation,
    user_password_set,
)
from backend.audit.models import Action
from backend.core.admin import (
    OrganisationScopedAdmin,
    ReadOnlyForOrgAdmin,
    org_admin_organisation_id,
)


class _PasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password reset through the service, so it ends every session as well."""

    def save(self, commit: bool = True) -> User:
        usable = self.cleaned_data["set_usable_password"]
        user_password_set(
            user=self.user, password=self.cleaned_data["password1"] if usable else None
        )
        return self.user


@admin.register(Organisation)
class OrganisationAdmin(OrganisationScopedAdmin):
    organisation_path = "pk"
    org_admin_can_add = False
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class _OrgAdminUserAddForm(forms.ModelForm):
    """An organisation admin's new account: no password (the person sets their own with a
    code e-mailed to them), so an e-mail address is required."""

    email = forms.EmailField(
        help_text="The activation code is e-mailed here; the person sets their own password."
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role"]

    def clean_role(self) -> str:
        return _not_service(self.cleaned_data.get("role", ""))


def _not_service(role: str) -> str:
    if role == Role.SERVICE:
        raise forms.ValidationError("Sending systems are added as service accounts.")
    return role


class _OrgAdminUserChangeForm(UserChangeForm):
    def clean_role(self) -> str:
        return _not_service(self.cleaned_data.get("role", ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        old_role = self.initial.get("role")
        grant = role_grant_needs_activation(old_role=old_role, new_role=cleaned.get("role", ""))
        if grant and not cleaned.get("email", self.instance.email):
            self.add_error("email", "Required: the activation code for the new role goes there.")
        return cleaned


CLINICIAN_EMAIL_HELP = (
    "A clinician's e-mail receives alerts about patients, so only platform staff (superusers) "
    "change it, at the clinician's request; every change is in the audit trail."
)


@admin.register(User)
class UserAdmin(OrganisationScopedAdmin, DjangoUserAdmin):
    """Superusers: Django's user admin. Organisation admins manage their organisation's people
    but never set a password, never change their own role, never change a clinician's e-mail,
    and every account they create or grant a role that opens patients' records stays pending
    until the person activates it with a code e-mailed to them (not shown to the admin)."""

    change_password_form = _PasswordChangeForm
    list_display = ["username", "first_name", "last_name", "role", "organisation", "is_active"]
    list_filter = ["role", "is_active", "organisation"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        ("PhysioTrack", {"fields": ("role", "organisation", "created_by")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("PhysioTrack", {"fields": ("role", "organisation", "first_name", "last_name")}),
    )
    org_admin_add_fieldsets = (
        (None, {"fields": ("username", "first_name", "last_name", "email", "role")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # Platform accounts are not theirs to manage; a service account's user is managed as
        # the service account (its role is what lets it import).
        return queryset.exclude(is_superuser=True).exclude(role=Role.SERVICE)

    def get_list_filter(self, request: HttpRequest) -> Any:
        if request.user.is_superuser:
            return self.list_filter
        return ["role", "is_active"]  # the organisation filter would list every clinic

    def get_fieldsets(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        if obj is None:
            return self.org_admin_add_fieldsets
        fieldsets = []
        for name, options in self.fieldsets or ():
            fields = [f for f in options["fields"] if f != "password"]  # no password, no reset
            options = {**options, "fields": fields}
            if "email" in fields and getattr(obj, "role", "") in CLINICIAN_ROLES:
                options["description"] = CLINICIAN_EMAIL_HELP
            fieldsets.append((name, options))
        return fieldsets

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if not request.user.is_superuser:
            kwargs["form"] = _OrgAdminUserAddForm if obj is None else _OrgAdminUserChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        if not request.user.is_superuser:
            # Setting someone's password is taking over their account: people reset their
            # own (patients through a new activation code before first sign-in).
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # An organisation admin manages people, never platform privileges.
            readonly += ["is_superuser", "groups", "user_permissions", "created_by", "last_login"]
            if obj is not None and obj.pk == request.user.pk:
                readonly += ["role"]  # nobody grants themselves a role
            if obj is not None and getattr(obj, "role", "") in CLINICIAN_ROLES:
                readonly += ["email"]  # CLINICIAN_EMAIL_HELP
        return readonly

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        assert isinstance(request.user, User)  # noqa: S101  # the admin needs a login
        org_id = org_admin_organisation_id(request)
        by_org_admin = org_id is not None and not request.user.is_superuser
        if by_org_admin:
            obj.organisation_id = org_id
            if not change:
                obj.created_by = request.user
                obj.is_active = False
                obj.set_unusable_password()
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            if obj.is_active:
                # Ticking it again is a deliberate reactivation: only an admin can undo one.
                account_reactivate(user=obj, by=request.user)
            else:
                # Unticking "active" is a deactivation like the API's: revoke every session
                # too, so reactivating the account later cannot revive an old refresh token.
                account_deactivate(user=obj, by=request.user)
        old_role = form.initial.get("role") if change else None
        if by_org_admin and (
            not change or role_grant_needs_activation(old_role=old_role, new_role=obj.role)
        ):
            account_pending_activation(user=obj, by=request.user)


@admin.register(PatientProfile)
class PatientProfileAdmin(OrganisationScopedAdmin):
    organisation_path = "user__organisation_id"
    readonly_fields = ["created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # A profile is a person's health record: it never moves to another account.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None else [*readonly, "user"]

    def get_exclude(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # Organisation admins manage accounts, not care: the diagnosis is the care team's.
        return [] if request.user.is_superuser else ["diagnosis"]

    def save_model(
        self, request: HttpRequest, obj: PatientProfile, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    list_display = ["__str__", "date_of_birth", "timezone", "notifications_consent", "created_at"]
    list_select_related = ["user"]
    search_fields = ["user__first_name", "user__last_name", "user__username"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("user")


@admin.register(CareTeamMembership)
class CareTeamMembershipAdmin(OrganisationScopedAdmin):
    organisation_path = "patient__user__organisation_id"
    org_admin_can_delete = True
    readonly_fields = ["added_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # A seat is never moved to another person or patient: remove it and add another.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None else [*readonly, "patient", "member", "role"]

    def save_model(
        self, request: HttpRequest, obj: CareTeamMembership, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    list_display = ["patient", "member", "role", "created_at"]
    list_select_related = ["patient__user", "member"]
    list_filter = ["role"]


@admin.register(CaregiverLink)
class CaregiverLinkAdmin(OrganisationScopedAdmin):
    organisation_path = "patient__user__organisation_id"
    org_admin_can_delete = True
    readonly_fields = ["created_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # A link is never moved to another caregiver or patient: remove it and add another.
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if obj is None else [*readonly, "patient", "caregiver"]

    def save_model(
        self, request: HttpRequest, obj: CaregiverLink, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    list_display = ["patient", "caregiver", "relationship", "created_at"]
    list_select_related = ["patient__user", "caregiver"]


@admin.register(ActivationCode)
class ActivationCodeAdmin(ReadOnlyForOrgAdmin):
    organisation_path = "user__organisation_id"
    list_display = ["user", "created_at", "expires_at", "used_at"]
    list_select_related = ["user"]
    readonly_fields = ["user", "code_hash", "expires_at", "used_at", "created_by", "created_at"]


@admin.register(PushDevice)
class PushDeviceAdmin(ReadOnlyForOrgAdmin):
    organisation_path = "user__organisation_id"
    org_admin_can_delete = True
    list_display = ["user", "platform", "created_at", "last_seen_at"]
    list_select_related = ["user"]


class _ServiceAccountAddForm(forms.ModelForm):
    """A new sending system: its name (and, for platform staff, its organisation). The key
    is drawn by the service and shown once, in the page's message."""

    organisation_id: int | None = None  # the organisation admin's own, set per request

    class Meta:
        model = ServiceAccount
        fields = ["organisation", "name"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organisation = cleaned.get("organisation")
        org_id = organisation.pk if organisation is not None else self.organisation_id
        name = (cleaned.get("name") or "").strip()
        if not name or org_id is None:
            return cleaned
        if ServiceAccount.objects.filter(organisation_id=org_id, name=name).exists():
            self.add_error("name", "The organisation already has a service account of that name.")
        return cleaned


@admin.register(ServiceAccount)
class ServiceAccountAdmin(OrganisationScopedAdmin):
    """An organisation admin adds their organisation's sending systems and revokes their
    keys; nothing else about them changes (a new key is a new account)."""

    list_display = ["name", "organisation", "key_prefix", "created_at", "revoked_at"]
    list_select_related = ["organisation"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["organisation", "name", "user", "key_prefix", "created_by", "created_at"]
    readonly_fields += ["revoked_at"]
    actions = ["revoke_keys"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Model | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        kwargs["form"] = _ServiceAccountAddForm
        if not request.user.is_superuser:
            kwargs["fields"] = ["name"]  # their own organisation's
        form = super().get_form(request, obj, change=change, **kwargs)
        form.organisation_id = org_admin_organisation_id(request)  # type: ignore[attr-defined]  # _ServiceAccountAddForm's
        return form

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ["organisation", "name"] if request.user.is_superuser else ["name"]
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: ServiceAccount, form: ModelForm, change: bool
    ) -> None:
        if change:
            return  # nothing is editable: revoking is the action
        assert isinstance(request.user, User)  # noqa: S101  # the admin needs a login
        if request.user.is_superuser:
            organisation = obj.organisation
        else:
            organisation = Organisation.objects.get(pk=org_admin_organisation_id(request) or 0)
        issued = service_account_create(
            organisation=organisation,
            name=obj.name,
            by=request.user,
        )
        # The admin goes on with `obj` (its audit event, the redirect): make it the new row.
        for field in ServiceAccount._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued.account, field.attname))
        obj._state.adding = False
        obj._state.db = issued.account._state.db
        messages.warning(
            request,
            f"The key of {issued.account.name} is {issued.key} — copy it into the sending "
            "system now: it is shown only once and cannot be recovered.",
        )

    @admin.action(description="Revoke the keys of the selected service accounts")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ServiceAccount]) -> None:
        accounts = [a for a in queryset if a.revoked_at is None]
        for account in accounts:
            service_account_revoke(account=account)
        self._record(request, Action.UPDATE, accounts, ["revoked_at"])
        messages.success(request, f"{len(accounts)} key(s) revoked.")
