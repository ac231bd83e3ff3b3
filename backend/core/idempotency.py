"""`Idempotency-Key` for POSTs (IETF draft-ietf-httpapi-idempotency-key-header).

A phone on a bad network does not know whether its POST arrived. Sent again with the same
key and the same body, it gets the first answer back (marked `Idempotent-Replayed: true`)
and the work is done once. The same key with another body or on another endpoint is 422; the
same key while the first request is still running is 409. Without the header nothing changes.

The claim (an "in progress" row) is committed before the work, so on PostgreSQL the unique
constraint decides which of two concurrent requests does it. The work and the stored answer
then commit in one transaction: a crash leaves neither, and the claim is taken over once its
lease ends. 4xx answers are stored and replayed like successes; 5xx are not (retry works).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.views import APIView

from backend.core.errors import DomainError
from backend.core.models import IdempotencyKey, IdempotencyState

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Longer than any request may run (gunicorn's timeout is 30 s): a claim this old was left by a
# worker that died, and the next retry may take it over.
IN_PROGRESS_LEASE = timedelta(minutes=5)

# The draft's value is a Structured Field string ("..."); a bare token is accepted too.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)

Handler = TypeVar("Handler", bound=Callable[..., Response])


def _parse_key(raw: str) -> str:
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not _KEY.match(value):
        message = "1 to 255 printable ASCII characters, e.g. a UUID."
        raise DomainError(
            f"The {HEADER} header is not valid: {message}",
            errors={HEADER: [message]},
        )
    return value


def _derive(purpose: str, key: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{key}".encode(), "sha256").digest()


def _encrypt(key: str, data: Any) -> bytes:
    plain = json.dumps(data, cls=JSONEncoder).encode()
    nonce = os.urandom(12)
    return nonce + AESGCM(_derive("idempotency-body", key)).encrypt(nonce, plain, None)


def _decrypt(key: str, stored: bytes | memoryview) -> Any:
    raw = bytes(stored)  # PostgreSQL hands back a memoryview
    plain = AESGCM(_derive("idempotency-body", key)).decrypt(raw[:12], raw[12:], None)
    return json.loads(plain)


def _user_of(request: Request) -> Any:
    return request.user if request.user and request.user.is_authenticated else None


def _claim(request: Request, key: str, *, now: datetime) -> IdempotencyKey | Response:
    """The new in-progress row, or the stored answer to replay; 409 or 422 as DomainError."""
    user = _user_of(request)
    key_hash = _derive("idempotency-key", key).hex()
    fingerprint = {
        "method": request.method or "",
        "path": request.get_full_path(),
        # Raw bytes: a retry sends the same body. Read before any parser consumes the stream.
        "body_hash": hashlib.sha256(request.body).hexdigest(),
    }
    for _ in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    user=user,
                    key_hash=key_hash,
                    created_at=now,
                    expires_at=now + settings.IDEMPOTENCY_KEY_TTL,
                    **fingerprint,
                )
        except IntegrityError:
            pass  # the key is known: decide from the stored row
        stored = IdempotencyKey.objects.filter(user=user, key_hash=key_hash).first()
        if stored is None:
            continue  # purged or released meanwhile
        abandoned = (
            stored.state == IdempotencyState.IN_PROGRESS
            and stored.created_at <= now - IN_PROGRESS_LEASE
        )
        if stored.expires_at <= now or abandoned:
            IdempotencyKey.objects.filter(pk=stored.pk, created_at=stored.created_at).delete()
            continue
        if (stored.method, stored.path) != (fingerprint["method"], fingerprint["path"]):
            raise DomainError(
                f"This {HEADER} was used for another request ({stored.method} {stored.path}); "
                "use a new key for a new request.",
                code="idempotency_key_reused",
                status=422,
            )
        if stored.body_hash != fingerprint["body_hash"]:
            raise DomainError(
                f"This {HEADER} was used with a different body; use a new key for a new request.",
                code="idempotency_key_reused",
                status=422,
            )
        if stored.state == IdempotencyState.IN_PROGRESS:
            break
        return _replay(stored, key, request)
    raise DomainError(
        f"A request with this {HEADER} is still being processed; retry in a moment.",
        code="idempotency_key_in_use",
        status=409,
    )


@dataclass(frozen=True)
class _ReplayedAnswer:
    pk: int
    patient_id: int | None


def _record_replay(request: Request, stored: IdempotencyKey, data: Any) -> None:
    """A replay hands out a stored answer, often a patient's record: it is a read like any
    other and goes in the audit trail (whose it was, when the body names a patient)."""
    from backend.audit.models import Action, Resource
    from backend.audit.services import record_access

    patient = data.get("patient") if isinstance(data, dict) else None
    answer = _ReplayedAnswer(stored.pk, patient if isinstance(patient, int) else None)
    record_access(request, Action.READ, Resource.REPLAYED_ANSWER, [answer])


def _replay(stored: IdempotencyKey, key: str, request: Request) -> Response:
    try:
        data = _decrypt(key, stored.response_body) if stored.response_body is not None else None
    except InvalidTag as error:  # SECRET_KEY rotated since: the answer cannot be read back
        raise DomainError(
            f"The answer to this {HEADER} can no longer be replayed; use a new key.",
            code="idempotency_key_reused",
            status=422,
        ) from error
    assert stored.response_status is not None  # noqa: S101  # completed rows have one
    _record_replay(request, stored, data)
    return Response(data, status=stored.response_status, headers={REPLAYED_HEADER: "true"})


def _complete(claim: IdempotencyKey, key: str, response: Response) -> None:
    body = _encrypt(key, response.data) if response.data is not None else None
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        state=IdempotencyState.COMPLETED,
        response_status=response.status_code,
        response_body=body,
    )


def _release(claim: IdempotencyKey) -> None:
    IdempotencyKey.objects.filter(pk=claim.pk, state=IdempotencyState.IN_PROGRESS).delete()


def idempotent(handler: Handler) -> Handler:
    """Decorates an APIView's `post`: honours the Idempotency-Key header (documented in the
    OpenAPI schema by backend.core.schema, which looks for this decorator)."""

    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.headers.get(HEADER)
        if raw is None:
            # One transaction all the same: the write and its audit event commit together.
            with transaction.atomic():
                return handler(view, request, *args, **kwargs)
        key = _parse_key(raw)
        claimed = _claim(request, key, now=timezone.now())
        if isinstance(claimed, Response):
            return claimed
        try:
            with transaction.atomic():
                try:
                    response = handler(view, request, *args, **kwargs)
                except Exception as exc:
                    # A refusal (4xx) is an answer to store; a bug is re-raised from here.
                    response = view.handle_exception(exc)
                if response.status_code < 500:
                    _complete(claimed, key, response)
        except BaseException:
            _release(claimed)
            raise
        if response.status_code >= 500:
            _release(claimed)
        return response

    wrapper.idempotent = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def is_idempotent(handler: object) -> bool:
    return bool(getattr(handler, "idempotent", False))


def idempotency_keys_purge(*, now: datetime) -> int:
    """Forgets keys past their lifetime (a retry after that is a new request)."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lt=now).delete()
    return deleted
