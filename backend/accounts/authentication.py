"""Bearer-token authentication: simplejwt's, with the patient profile read in the same query."""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from backend.accounts.models import User


class JWTAuthentication(authentication.JWTAuthentication):
    """Most requests are a patient's, and their writes need the profile: a join here saves a
        second round trip per request. The checks are simplejwt's own (active user, revocation), and
    a token issued before the password last changed is refused (a change ends every session)."""

    def get_user(self, validated_token: Any) -> User:  # type: ignore[override]
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken("Token contained no recognizable user identification") from error
        user = (
            User.objects.select_related("patient_profile")
            .filter(**{api_settings.USER_ID_FIELD: user_id})
            .first()
        )
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if user.password_changed_at is not None and _issued_at(validated_token) < int(
            user.password_changed_at.timestamp()
        ):
            # Whole seconds: a token issued in the second of the change is let through
            # rather than refusing the session just opened with the new password.
            raise AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        return user


def _issued_at(validated_token: Any) -> int:
    issued_at = validated_token.get("iat")
    return issued_at if isinstance(issued_at, int) else 0  # no `iat`: older than any change


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The same bearer scheme in the OpenAPI schema as simplejwt's own class."""

    target_class = "backend.accounts.authentication.JWTAuthentication"
