"""What every alert's reason must be (DOMAIN.md 6: "a one-line reason in plain words a
clinician reads in seconds"): values with their units, the threshold, dates as a person reads
them in the patient's own time zone, and no derived number nobody measured (56.25)."""

from __future__ import annotations

import re

from backend.alerts.models import Alert
from backend.alerts.rules import RULES

DERIVED_NUMBER = re.compile(r"\d\.\d{3,}")  # 56.25 is two decimals too many for 30 of 80
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def assert_explained(alert: Alert, *fragments: str) -> None:
    """The alert records its rule's real version, and its reason reads in seconds and holds
    each fragment (a value with its unit, a threshold, a local date…)."""
    version = RULES[alert.rule_id].version
    assert alert.rule_version == version, alert.rule_id
    assert alert.evidence["rule"] == {"id": alert.rule_id, "version": version}
    reason = alert.reason
    assert not DERIVED_NUMBER.search(reason), reason
    assert "(rule:" not in reason, reason
    assert not ISO_DATE.search(reason), reason
    assert len(reason) < 300, reason  # the column keeps 300: nothing is cut off
    for fragment in fragments:
        assert fragment in reason, (fragment, reason)
