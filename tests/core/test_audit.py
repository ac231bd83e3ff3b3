"""`make audit`: a package pip-audit could not look up is not a pass."""

from __future__ import annotations

from tools.audit import verdict

CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "requests",
    "version": "2.0.0",
    "vulns": [{"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"]}],
}
SKIPPED = {"name": "amqp", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def test_a_known_vulnerability_fails_and_is_named():
    code, lines = verdict({"dependencies": [CLEAN, VULNERABLE]}, allow_unaudited=True)

    assert code == 1
    assert "requests 2.0.0: PYSEC-2023-74 (fixed in 2.31.0)" in lines


def test_an_unaudited_package_fails_unless_allowed_and_then_says_so():
    strict, _ = verdict({"dependencies": [CLEAN, SKIPPED]}, allow_unaudited=False)
    lenient, lines = verdict({"dependencies": [CLEAN, SKIPPED]}, allow_unaudited=True)

    assert strict == 1
    assert lenient == 0
    assert "1 of 2 pinned packages audited" in lines[0]
    assert any(line.startswith("WARNING") for line in lines)


def test_all_audited_and_clean_passes():
    assert verdict({"dependencies": [CLEAN]}, allow_unaudited=False)[0] == 0
