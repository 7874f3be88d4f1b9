"""The tracker's cap and subject logic, on rules and completions built in memory (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from campus.dates import add_months
from campus.learning.models import BoardApproval, Course, CourseProfession
from campus.licenses.models import RenewalRule
from campus.licenses.tracker import Completion, Tracker, cycle_for, weigh

D = Decimal


def rule(**fields) -> RenewalRule:
    values = {
        "jurisdiction": "FL",
        "profession": "massage_therapist",
        "hours_per_cycle": D("24"),
        "cycle_months": 24,
        "max_home_study_hours": None,
        "capped_deliveries": ["home_study", "recorded_webinar"],
        "required_subjects": {},
        "accepted_approvals": [],
        "voluntary": False,
        "source": "test",
    }
    values.update(fields)
    return RenewalRule(**values)


def course(
    title: str = "Course",
    *,
    delivery: str = "home_study",
    subjects: tuple[str, ...] = (),
    boards: tuple[str, ...] = ("NCBTMB",),
    valid_until: date | None = None,
    professions: tuple[str, ...] = ("massage_therapist",),
    valid_from: date | None = None,
) -> Course:
    return Course(
        title=title,
        delivery_type=delivery,
        subjects=list(subjects),
        approvals=[
            BoardApproval(
                board=b, approval_number="1", valid_from=valid_from, valid_until=valid_until
            )
            for b in boards
        ],
        audience=[CourseProfession(profession=p) for p in professions],
    )


def done(item: Course, hours: str, day: date = date(2026, 3, 1)) -> Completion:
    return Completion(course=item, completed_on=day, hours=D(hours))


def run(the_rule: RenewalRule, *items: Completion, profession="massage_therapist") -> Tracker:
    return weigh(the_rule, profession, list(items))


@pytest.mark.parametrize(
    ("cap", "hours", "counted", "due"),
    [
        (None, ["10", "10"], "20", "4"),  # no cap: every hour counts
        ("12", ["10"], "10", "14"),  # under the cap
        ("12", ["10", "10"], "12", "12"),  # the second course is cut at the cap
        ("12", ["12", "4"], "12", "12"),  # exactly at the cap, then nothing more
        ("0", ["3"], "0", "24"),  # no home study at all
    ],
)
def test_home_study_counts_up_to_the_cap(cap, hours, counted, due):
    the_rule = rule(max_home_study_hours=None if cap is None else D(cap))
    tracker = run(the_rule, *(done(course(f"C{n}"), h) for n, h in enumerate(hours)))
    assert tracker.counted == D(counted)
    assert tracker.due == D(due)


def test_the_hours_over_the_cap_are_listed_with_the_reason():
    tracker = run(
        rule(max_home_study_hours=D("12")), done(course("A"), "10"), done(course("B"), "6")
    )
    (b,) = tracker.not_counting
    assert (b.course_title, b.counted, b.not_counted) == ("B", D("2"), D("4"))
    assert b.reason.startswith("Cap reached: at most 12 h")


@pytest.mark.parametrize(
    ("delivery", "capped", "counted"),
    [
        ("live_webinar", ["home_study", "recorded_webinar"], "20"),  # live hours are not capped
        ("recorded_webinar", ["home_study", "recorded_webinar"], "12"),
        ("live_webinar", ["home_study", "recorded_webinar", "live_webinar"], "12"),  # FL massage
    ],
)
def test_the_cap_applies_to_the_rules_capped_deliveries(delivery, capped, counted):
    the_rule = rule(max_home_study_hours=D("12"), capped_deliveries=capped)
    tracker = run(the_rule, done(course(delivery=delivery), "20"))
    assert tracker.counted == D(counted)


@pytest.mark.parametrize(
    ("accepted", "boards", "counts"),
    [
        ([], ("NCBTMB",), True),  # the rule names no approvals: any approval counts
        (["FL"], ("NCBTMB",), False),
        (["FL", "NCBTMB"], ("NCBTMB",), True),
        (["FL"], ("FL", "NCBTMB"), True),
        (["NCBTMB"], (), False),  # no approval at all
    ],
)
def test_only_approvals_the_board_accepts_count(accepted, boards, counts):
    tracker = run(rule(accepted_approvals=accepted), done(course(boards=boards), "3"))
    assert tracker.counted == (D("3") if counts else D("0"))
    if not counts:
        assert tracker.not_counting[0].reason.startswith("Approval not accepted")


def test_an_approval_that_expired_before_completion_does_not_count():
    expired = course(boards=("FL",), valid_until=date(2026, 1, 31))
    tracker = run(rule(accepted_approvals=["FL"]), done(expired, "3", date(2026, 2, 1)))
    assert tracker.counted == 0
    # Not "takes courses approved by FL; this one has FL": the member is told what is wrong.
    assert tracker.not_counting[0].reason == (
        "The course's FL approval had ended by the day it was completed."
    )


def test_an_approval_that_started_after_completion_does_not_count():
    early = course(boards=("FL",), valid_from=date(2026, 2, 2), valid_until=date(2027, 1, 31))
    tracker = run(rule(accepted_approvals=["FL"]), done(early, "3", date(2026, 2, 1)))
    assert tracker.counted == 0
    assert tracker.not_counting[0].reason == (
        "The course's FL approval had not started by the day it was completed."
    )
    # From its first day on, it counts.
    tracker = run(rule(accepted_approvals=["FL"]), done(early, "3", date(2026, 2, 2)))
    assert tracker.counted == D("3")


def test_a_completion_between_an_approval_and_its_renewal_is_told_it_lapsed():
    lapsed = course(boards=("FL",), valid_from=date(2024, 2, 1), valid_until=date(2026, 1, 31))
    lapsed.approvals.append(
        BoardApproval(
            board="FL",
            approval_number="2",
            valid_from=date(2026, 2, 15),
            valid_until=date(2028, 1, 31),
        )
    )
    tracker = run(rule(accepted_approvals=["FL"]), done(lapsed, "3", date(2026, 2, 5)))
    assert tracker.counted == 0
    # Not "had not started": the course was approved before, and again after, but not that day.
    assert tracker.not_counting[0].reason == (
        "The course's FL approval had ended by the day it was completed, and its renewal had "
        "not started yet."
    )


def test_boards_dated_differently_are_each_told():
    both = course(boards=("FL",), valid_from=date(2026, 3, 1))
    both.approvals.append(
        BoardApproval(board="NCBTMB", approval_number="2", valid_until=date(2026, 1, 31))
    )
    tracker = run(rule(accepted_approvals=["FL", "NCBTMB"]), done(both, "3", date(2026, 2, 5)))
    assert tracker.not_counting[0].reason == (
        "The course's FL approval had not started by the day it was completed. "
        "The course's NCBTMB approval had ended by the day it was completed."
    )


def test_a_rule_naming_no_approvals_wants_one_started_by_the_completion():
    early = course(boards=("NCBTMB",), valid_from=date(2026, 2, 2))
    tracker = run(rule(accepted_approvals=[]), done(early, "3", date(2026, 2, 1)))
    assert tracker.counted == 0
    assert tracker.not_counting[0].reason == (
        "No board approval was in force for this course on the day it was completed."
    )


def test_a_course_for_another_profession_does_not_count():
    pt_only = course(professions=("physical_therapist",))
    tracker = run(rule(), done(pt_only, "3"))
    assert tracker.counted == 0
    assert "profession" in tracker.not_counting[0].reason


SUBJECTS = {"medical_errors": "2", "laws_and_rules": "2", "ethics": "2", "human_trafficking": "1"}


@pytest.mark.parametrize(
    ("courses", "subject_due", "due"),
    [
        ([], {"medical_errors": 2, "laws_and_rules": 2, "ethics": 2, "human_trafficking": 1}, 24),
        # 24 general hours: the total is met but every subject is still missing
        (
            [("24", ())],
            {"medical_errors": 2, "laws_and_rules": 2, "ethics": 2, "human_trafficking": 1},
            7,
        ),
        (
            [("2", ("ethics",))],
            {"medical_errors": 2, "laws_and_rules": 2, "human_trafficking": 1},
            22,
        ),
        # a 1-hour ethics course leaves one ethics hour due
        (
            [("1", ("ethics",)), ("20", ())],
            {"ethics": 1, "medical_errors": 2, "laws_and_rules": 2, "human_trafficking": 1},
            6,
        ),
        # one course covering two subjects fills them in order, never counting an hour twice
        (
            [("3", ("medical_errors", "ethics"))],
            {"ethics": 1, "laws_and_rules": 2, "human_trafficking": 1},
            21,
        ),
        (
            [
                ("2", ("medical_errors",)),
                ("2", ("laws_and_rules",)),
                ("2", ("ethics",)),
                ("1", ("human_trafficking",)),
                ("17", ()),
            ],
            {},
            0,
        ),
    ],
)
def test_required_subjects_are_filled_by_courses_that_cover_them(courses, subject_due, due):
    the_rule = rule(required_subjects=SUBJECTS)
    items = [done(course(f"C{n}", subjects=s), h) for n, (h, s) in enumerate(courses)]
    tracker = run(the_rule, *items)
    assert {s.key: int(s.due) for s in tracker.subjects if s.due > 0} == subject_due
    assert tracker.due == D(due)


def test_hours_cut_by_the_cap_do_not_fill_a_subject():
    the_rule = rule(max_home_study_hours=D("2"), required_subjects={"ethics": "2"})
    tracker = run(
        the_rule, done(course("General"), "2"), done(course("Ethics", subjects=("ethics",)), "2")
    )
    assert tracker.subjects[0].due == D("2")
    assert tracker.not_counting[0].course_title == "Ethics"


def test_a_subject_course_without_an_accepted_approval_fills_nothing():
    the_rule = rule(accepted_approvals=["FL"], required_subjects={"ethics": "2"})
    tracker = run(the_rule, done(course(subjects=("ethics",), boards=("NCBTMB",)), "2"))
    assert tracker.subjects[0].due == D("2")


@pytest.mark.parametrize(
    ("expires", "months", "start"),
    [
        (date(2027, 8, 31), 24, date(2025, 9, 1)),
        (date(2027, 1, 31), 24, date(2025, 2, 1)),
        (date(2028, 2, 29), 24, date(2026, 3, 1)),  # leap day: Feb 28 two years before, +1
        (date(2027, 5, 31), 36, date(2024, 6, 1)),
        # A license that expires at the end of the birth month expired on February 29 the
        # cycle before: that day was the last of the old cycle, not the first of this one.
        (date(2026, 2, 28), 24, date(2024, 3, 1)),
        (date(2027, 2, 28), 36, date(2024, 3, 1)),
        (date(2026, 2, 28), 12, date(2025, 3, 1)),
        (date(2026, 2, 27), 24, date(2024, 2, 28)),  # not a month's end: the day after
    ],
)
def test_the_cycle_ends_on_the_expiry_date_and_spans_the_rules_months(expires, months, start):
    assert cycle_for(expires, months) == (start, expires)


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 15), -15) == date(2024, 12, 15)


@pytest.mark.parametrize(
    "lapsed",
    [
        course(boards=("NCBTMB",), valid_until=date(2026, 1, 31)),  # lapsed the day before
        course(boards=()),  # never approved by anyone
    ],
)
def test_a_rule_naming_no_approvals_still_wants_one_in_force(lapsed):
    tracker = run(rule(accepted_approvals=[]), done(lapsed, "3", date(2026, 2, 1)))
    assert tracker.counted == 0
    assert tracker.not_counting[0].reason == (
        "No board approval was in force for this course on the day it was completed."
    )
