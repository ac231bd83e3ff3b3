"""Sending systems authenticate with their service account's key, on the import views only:
`Authorization: Bearer ptsa_…` or `X-Api-Key: ptsa_…`. Every other view authenticates people
(JWT) and never accepts a key; a person's token is refused here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from backend.accounts.models import Role, ServiceAccount, User
from backend.accounts.service_accounts import service_account_for_key


class ServiceAccountAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[User, ServiceAccount] | None:
        key = request.headers.get("X-Api-Key", "").strip()
        if not key:
            scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                return None  # NotAuthenticated: 401 with the header below
            key = credential.strip()
        account = service_account_for_key(key)
        if account is None:
            # A person's token, a mistyped key or a revoked one: all the same to the caller.
            raise exceptions.AuthenticationFailed(
                "Not a valid service account key.", code="invalid_key"
            )
        return account.user, account

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="fhir-import"'


class IsServiceAccount(permissions.BasePermission):
    message = "Only a service account may import."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return (
            isinstance(request.auth, ServiceAccount) and getattr(user, "role", "") == Role.SERVICE
        )


def service_account_of(request: Request) -> ServiceAccount:
    account = request.auth
    assert isinstance(account, ServiceAccount)  # noqa: S101  # IsServiceAccount let it in
    return account


class ServiceAccountScheme(OpenApiAuthenticationExtension):
    """The key in the OpenAPI schema: a bearer token (X-Api-Key is accepted too)."""

    target_class = "backend.fhir.imports.authentication.ServiceAccountAuthentication"
    name = "serviceAccountKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A service account's key (`ptsa_…`), also accepted as X-Api-Key.",
        }
