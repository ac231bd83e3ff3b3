"""The activation code as the enrol pages show it: once, in text and as a QR code.

The QR code carries `physiotrack://activate?code=ABCDE-FGHJK`: the app registers the
`physiotrack` URL scheme, and its activation screen takes the code from the `code` query
parameter and asks for a new password (`POST /api/v1/auth/activate/`). A phone camera that
opens the link without the app installed shows nothing useful, so the page also gives the
code in text to type in. The code is never stored in clear (the service keeps a keyed hash),
so the page that shows it is the answer to the POST that issued it, sent with `no-store`.

A form that issues a code carries a one-time submission token: reloading the answer (which
re-sends the POST) or a double click finds the token spent and shows "already sent" instead
of enrolling the patient twice or showing a second code.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

import segno
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

ACTIVATION_URI = "physiotrack://activate?code={code}"
SUBMISSION_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# A submission token is spent for a day: longer than anyone keeps a form open, and a reload
# after that finds an expired token and is refused by the service (the code is replaced).
SUBMISSION_TTL_SECONDS = 24 * 60 * 60


def activation_uri(code: str) -> str:
    return ACTIVATION_URI.format(code=quote(code, safe="-"))


def activation_qr_svg(code: str) -> SafeString:
    """An inline SVG QR code of the activation link, with no style attributes (the console's
    Content-Security-Policy forbids them): segno's plain-path SVG, sized by its viewBox and
    the stylesheet, dark modules drawn with the `stroke` presentation attribute."""
    qr = segno.make(activation_uri(code), error="m")
    svg = qr.svg_inline(
        scale=4,
        omitsize=True,  # viewBox only: the stylesheet sets the size
        svgclass="qr-code",
        lineclass="qr-modules",
        light="#fff",
        dark="#000",
    )
    # The figure around it names it; the drawing itself is hidden from assistive technology.
    svg = svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
    return mark_safe(svg)  # noqa: S308  # segno's own markup of our URI, nothing user-typed


def spelled_out(code: str) -> str:
    """The code one character at a time, for a screen reader ("A B C D E, dash, …")."""
    return ", ".join(" ".join(part) for part in code.split("-"))


def new_submission_token() -> str:
    return secrets.token_urlsafe(24)


def _key(user_id: int, token: str) -> str:
    return f"console:submission:{user_id}:{token}"


def submission_claim(*, user_id: int, token: str) -> bool:
    """True for the first POST of a form; False when it was sent before (reload, double
    click). Atomic in the cache (Redis in production), so two at once cannot both win."""
    return bool(cache.add(_key(user_id, token), "pending", SUBMISSION_TTL_SECONDS))


def submission_release(*, user_id: int, token: str) -> None:
    """The submission was refused (bad input): the corrected form may be sent again."""
    cache.delete(_key(user_id, token))


def submission_done(*, user_id: int, token: str, patient_id: int) -> None:
    """Remembers which patient the submission was about, for the "already sent" page."""
    cache.set(_key(user_id, token), str(patient_id), SUBMISSION_TTL_SECONDS)


def submission_patient(*, user_id: int, token: str) -> int | None:
    value = cache.get(_key(user_id, token))
    return int(value) if isinstance(value, str) and value.isdigit() else None
