"""The rule catalogue (backend/alerts/rules): every rule id of shared/DOMAIN.md, exactly those,
each used by the code that runs it; served by GET /api/v1/rules/ and written to docs/rules.md."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from backend.accounts.models import User
from backend.alerts.rules import RULES, RULES_IN_ORDER, params
from backend.alerts.rules.docs import rules_markdown
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "backend"
CATALOGUE_PACKAGE = BACKEND / "alerts" / "rules"

# The rule ids of shared/DOMAIN.md (sections 2 to 7). Kept here, not parsed from DOMAIN.md:
# CI must not depend on the shared folder beside the clone.
DOMAIN_RULE_IDS = {
    "R-0",
    "R-1",
    "R-2",
    "A-1",
    "A-2",
    "A-3",
    "A-4",
    "S",
    *(f"FD-{n}" for n in range(1, 9)),
    "KID-1",
    "KID-2",
    "KID-3",
    "SYM-1",
    "SYM-2",
    "SYM-3",
    "SUN-1",
    "PROG-1",
}
SAFETY_CRITICAL = {"SYM-1", "SYM-2", "FD-2", "FD-4", "KID-1", "A-3"}
RULE_ID = re.compile(
    r"(?:R-[0-9]+|A-[0-9]+|S|FD-[0-9]+|KID-[0-9]+|SYM-[0-9]+|SUN-[0-9]+|PROG-[0-9]+)"
)


def _backend_sources(*, outside_catalogue: bool) -> dict[Path, str]:
    return {
        path: path.read_text(encoding="utf-8")
        for path in sorted(BACKEND.rglob("*.py"))
        if not (outside_catalogue and CATALOGUE_PACKAGE in path.parents)
    }


def _rule_id_literals(source: str) -> set[str]:
    """String constants of the module that are, whole, shaped like a rule id."""
    return {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and RULE_ID.fullmatch(node.value)
    }


def _mentions(source: str, rule_id: str) -> bool:
    """The id as a word of its own: a literal, or in a comment or docstring ("S: ...")."""
    return re.search(rf"(?<![\w-]){re.escape(rule_id)}(?![\w-])", source) is not None


# --- The catalogue against DOMAIN.md and the code ----------------------------------------------


def test_the_catalogue_holds_exactly_the_rules_of_domain_md() -> None:
    # when
    ids = set(RULES)

    # then
    assert ids == DOMAIN_RULE_IDS
    assert len(RULES_IN_ORDER) == len(DOMAIN_RULE_IDS)


def test_every_rule_id_literal_in_backend_code_is_in_the_catalogue() -> None:
    # given
    literals = {
        (path.relative_to(ROOT).as_posix(), rule_id)
        for path, source in _backend_sources(outside_catalogue=False).items()
        for rule_id in _rule_id_literals(source)
    }

    # then
    assert literals, "the scan found no rule id at all: the pattern is broken"
    assert {(path, rule_id) for path, rule_id in literals if rule_id not in RULES} == set()


def test_every_catalogue_rule_is_used_by_backend_code_outside_the_catalogue() -> None:
    # given
    sources = _backend_sources(outside_catalogue=True)
    literals = {rule_id for source in sources.values() for rule_id in _rule_id_literals(source)}

    # then: named by the code (a literal), or at least where the catalogue says it runs
    unreferenced = {
        rule.id
        for rule in RULES_IN_ORDER
        if rule.id not in literals
        and not any(_mentions(sources[_path_of(m)], rule.id) for m in rule.implemented_in)
    }
    assert unreferenced == set()


def test_each_rule_names_modules_that_exist_and_mention_it() -> None:
    for rule in RULES_IN_ORDER:
        assert rule.implemented_in, rule.id
        for module in rule.implemented_in:
            assert importlib.util.find_spec(module) is not None, (rule.id, module)
            assert _mentions(_path_of(module).read_text(encoding="utf-8"), rule.id), (
                rule.id,
                module,
            )


def _path_of(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def test_safety_critical_rules_are_those_of_domain_md_7_and_cannot_be_switched_off() -> None:
    # then
    assert {rule.id for rule in RULES_IN_ORDER if rule.safety_critical} == SAFETY_CRITICAL
    assert not any(RULES[rule_id].may_disable for rule_id in SAFETY_CRITICAL)


def test_params_keep_their_names_and_defaults_for_existing_callers() -> None:
    # then
    assert params("FD-1")["drop_points"] == 3
    assert params("FD-1")["best_window_days"] == 180
    assert params("SYM-2")["pain_after_at_least"] == 7
    assert params("SYM-2")["pain_rise_at_least"] == 4
    assert params("A-2", {"A-2": {"consecutive_weeks": 3}})["consecutive_weeks"] == 3
    assert params("KID-3")["interval_days"] is None
    assert params("SUN-1")["time"] == "08:00"


@pytest.mark.parametrize("rule_id", sorted(SAFETY_CRITICAL))
def test_a_stored_enabled_false_does_not_switch_off_a_safety_critical_rule(rule_id: str) -> None:
    # when
    in_force = params(rule_id, {rule_id: {"enabled": False, "urgency": "info"}})

    # then: still on, and its urgency cannot be lowered either
    assert in_force.enabled is True
    assert in_force.urgency == RULES[rule_id].urgency


def test_a_rule_that_may_be_off_honours_enabled_false() -> None:
    assert params("FD-1", {"FD-1": {"enabled": False}}).enabled is False
    assert params("FD-1", {"FD-1": {"urgency": "urgent"}}).urgency == "urgent"
    assert params("FD-1", {"FD-1": {"urgency": "not-an-urgency"}}).urgency == "routine"


# --- GET /api/v1/rules/ ------------------------------------------------------------------------


def test_the_catalogue_endpoint_lists_every_rule_with_its_basis(
    world: World, client_for: Callable[[User], APIClient], django_assert_num_queries
) -> None:
    # given
    client = client_for(world.patient.user)

    # when
    with django_assert_num_queries(1):  # the signed-in user
        response = client.get("/api/v1/rules/")

    # then
    assert response.status_code == 200
    rules = {rule["id"]: rule for rule in response.json()}
    assert set(rules) == DOMAIN_RULE_IDS
    assert rules["FD-3"]["status"] == "UNVERIFIED"
    assert rules["FD-2"]["status"] == "SRC"
    assert rules["FD-1"]["status"] == "DEFAULT"
    assert rules["FD-2"]["audience"] == ["physio_and_nurse"]
    assert rules["FD-4"]["audience"] == ["physio_and_nurse"]
    assert rules["SYM-1"]["audience"] == ["team"]
    assert rules["A-3"]["audience"] == ["physio_and_nurse"]
    assert rules["R-1"]["audience"] == ["patient"]
    assert rules["SYM-1"]["urgency"] == "emergency"
    assert rules["FD-2"]["safety_critical"] is True
    assert rules["FD-2"]["may_disable"] is False
    assert rules["FD-1"]["may_disable"] is True
    assert {r["id"]: r["version"] for r in rules.values() if r["version"] == 2}.keys() == {
        "SYM-1",
        "SYM-2",
        "FD-2",
        "FD-4",
        "FD-5",
        "FD-6",
        "KID-2",
        "A-1",
        "A-4",
    }
    drop = rules["FD-1"]["parameters"][0]
    assert drop == {
        "name": "drop_points",
        "type": "number",
        "default": 3,
        "unit": "CMAS points",
        "description": drop["description"],
        "minimum": 1.0,
        "maximum": 10.0,
        "step": None,
        "nullable": False,
    }
    assert rules["SYM-2"]["source"].startswith("DOMAIN.md 5")


def test_the_catalogue_endpoint_needs_a_sign_in(api_client: APIClient, db: None) -> None:
    assert api_client.get("/api/v1/rules/").status_code == 401


# --- docs/rules.md -----------------------------------------------------------------------------


def test_the_committed_rules_doc_is_what_the_catalogue_generates() -> None:
    # then: `make rules-doc` was run after the last change to the catalogue
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown()


def test_the_rules_doc_command_writes_every_rule(tmp_path: Path) -> None:
    # given
    target = tmp_path / "rules.md"

    # when
    call_command("rules_doc", file=str(target))

    # then
    text = target.read_text(encoding="utf-8")
    for rule in RULES_IN_ORDER:
        assert f"## {rule.id} — {rule.title} (version {rule.version})" in text
    assert "| [FD-3](#fd-3--mmt8-drop-version-1) | 1 | MMT8 drop | UNVERIFIED |" in text
