"""The shipped data agree: the demo courses count for the demo member's Florida license."""

from __future__ import annotations

from pathlib import Path

import yaml

import campus

PACKAGE = Path(campus.__file__).parent
RULES = yaml.safe_load((PACKAGE / "licenses/data/renewal_rules.yaml").read_text())


def test_the_demo_courses_hold_an_approval_the_florida_massage_rule_accepts():
    [florida] = [
        rule
        for rule in RULES
        if rule["jurisdiction"] == "FL" and rule["profession"] == "massage_therapist"
    ]
    accepted = {board.upper() for board in florida["accepted_approvals"]}
    for course_file in sorted((PACKAGE / "learning/demo_courses").glob("*/course.yaml")):
        boards = {a["board"].upper() for a in yaml.safe_load(course_file.read_text())["approvals"]}
        assert boards & accepted, f"{course_file.parent.name} counts for no Florida license"
