"""Catalog filters and search, the course page, rendering, the dashboard and the demo seed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.learning.helpers import make_course, make_reader


def _shown(html: str) -> str:
    """A page's text without its tags (an approval's number is a span of its own)."""
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture
def courses(app):
    with app.app_context():
        return [
            make_course("hip", title="Hip and thigh work", ce_hours="4", topic="Hip and thigh"),
            make_course(
                "neck",
                title="Neck and shoulder",
                ce_hours="1.5",
                topic="Neck and shoulder",
                professions=("athletic_trainer",),
            ),
            make_course("long", title="Full body 100% review", ce_hours="6", topic="Full body"),
            make_course("secret", title="Hidden draft", published=False, topic="Drafts"),
        ]


def _titles(client, query: str) -> list[str]:
    body = client.get(f"/api/v1/courses{query}").get_json()
    return sorted(c["slug"] for c in body["courses"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["hip", "long", "neck"]),
        ("?q=NECK", ["neck"]),
        ("?q=100%25", ["long"]),  # a literal %, not a wildcard
        ("?q=_", []),
        ("?profession=athletic_trainer", ["neck"]),
        ("?topic=Hip+and+thigh", ["hip"]),
        ("?hours=short", ["neck"]),
        ("?hours=medium", ["hip"]),
        ("?hours=long", ["long"]),
        ("?q=hidden", []),
    ],
)
def test_catalog_api_filters_and_search(app, client, courses, query, expected):
    assert _titles(client, query) == expected


def test_catalog_page_lists_hours_and_approvals_and_filters(app, client, courses):
    html = client.get("/courses/?hours=short").get_data(as_text=True)
    assert "Neck and shoulder" in html and "Hip and thigh work" not in html
    assert "<strong>1.5</strong> CE hours" in html
    assert "NCBTMB 1234-56" in _shown(html)
    assert "Hidden draft" not in client.get("/courses/").get_data(as_text=True)


def test_a_catalog_card_does_not_offer_an_approval_that_has_lapsed(app, client):
    import time_machine

    from campus import dates
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("lapsing", title="Lapsing approval", ce_hours="2")
        approval = db.session.scalars(
            select(BoardApproval).where(BoardApproval.course_id == course.id)
        ).one()
        # The app's calendar (outside an app context the zone is another one).
        lapses_on = dates.today() + timedelta(days=10)
        approval.valid_until = lapses_on
        db.session.commit()
    assert "NCBTMB 1234-56" in _shown(client.get("/courses/").get_data(as_text=True))
    # A month on, the board's approval has lapsed: a certificate earned now prints none.
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30), tick=False):
        html = client.get("/courses/").get_data(as_text=True)
    assert "Lapsing approval" in html
    assert "NCBTMB 1234-56" not in _shown(html)
    assert "No board approval in force" in html


def test_an_approval_is_offered_from_its_first_day_on_card_page_and_api(app, client):
    import time_machine

    from campus import dates
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        make_course("starting", title="Starting approval", ce_hours="2")
        approval = db.session.scalars(select(BoardApproval)).one()
        starts_on = dates.today() + timedelta(days=10)
        approval.valid_from = starts_on
        db.session.commit()
    # Not in force yet: a certificate earned today prints no approval, so none is offered.
    html = client.get("/courses/").get_data(as_text=True)
    assert "NCBTMB 1234-56" not in _shown(html) and "No board approval in force" in html
    page = client.get("/courses/starting").get_data(as_text=True)
    assert "No board approval is in force for this course" in page
    assert "Not in force until" in page and "Expired" not in page
    (card,) = client.get("/api/v1/courses").get_json()["courses"]
    assert card["approvals"] == []
    detail = client.get("/api/v1/courses/starting").get_json()
    assert [a["valid_from"] for a in detail["approvals"]] == [starts_on.isoformat()]
    document = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "first day" in document["Approval"]["properties"]["valid_from"]["description"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30), tick=False):
        html = client.get("/courses/").get_data(as_text=True)
        (card,) = client.get("/api/v1/courses").get_json()["courses"]
    assert "NCBTMB 1234-56" in _shown(html)
    assert [a["valid_from"] for a in card["approvals"]] == [starts_on.isoformat()]


@pytest.mark.parametrize(
    "query", ["?hours=forever", "?profession=wizard", "?page=-3", "?page=abc", "?q=" + "x" * 500]
)
def test_catalog_ignores_bad_filters(app, client, courses, query):
    assert client.get(f"/courses/{query}").status_code == 200


@pytest.mark.parametrize("query", ["?hours=forever", "?page=0", "?page=abc"])
def test_catalog_api_rejects_bad_filters_with_422(app, client, courses, query):
    response = client.get(f"/api/v1/courses{query}")
    assert response.status_code == 422 and "error" in response.get_json()


@pytest.mark.parametrize("profession", ["athletic trainer", "Athletic_Trainer", "wizard"])
def test_catalog_api_refuses_a_profession_it_does_not_know_instead_of_listing_every_course(
    app, client, courses, profession
):
    # Dropped silently, a misspelt profession answered the whole catalog, courses approved for
    # other professions included, as if they were the ones for the profession asked about.
    response = client.get("/api/v1/courses", query_string={"profession": profession})
    assert response.status_code == 422
    assert "profession" in response.get_json()["error"]["details"]["query"]


def test_catalog_paginates(app, client):
    with app.app_context():
        # Publishable courses (a lesson and a quiz each): publishing checks that.
        for n in range(30):
            make_course(f"c{n:02}", title=f"C {n}", lessons=1, ce_hours="1", topic="T")
    first = client.get("/api/v1/courses").get_json()
    second = client.get("/api/v1/courses?page=2").get_json()
    assert (first["total"], first["pages"], len(first["courses"]), len(second["courses"])) == (
        30,
        2,
        24,
        6,
    )
    assert "Page 1 of 2" in client.get("/courses/").get_data(as_text=True)


def test_api_course_links_are_whole_addresses_like_the_other_apis(app, client, courses):
    # A client shows the link outside this site (an app, an email): a bare path leads nowhere.
    listed = client.get("/api/v1/courses?q=neck").get_json()["courses"][0]
    one = client.get("/api/v1/courses/neck").get_json()
    expected = app.config["PUBLIC_BASE_URL"] + "/courses/neck"
    assert listed["url"] == one["url"] == expected


def test_course_page_has_overview_objectives_syllabus_instructor_approvals(app, client, courses):
    html = client.get("/courses/hip").get_data(as_text=True)
    for text in (
        "<strong>overview</strong>",
        "Find points",
        "Module 1: One",
        "Lesson 2",
        "Ann Presenter, LMT",
        "<span>1234-56</span>",
        "pass mark 75%",
    ):
        assert text in html
    assert "<script>alert(1)</script>" not in html


def test_unknown_course_is_404(app, client):
    assert client.get("/courses/nothing-here").status_code == 404
    assert client.get("/api/v1/courses/nothing-here").get_json()["error"]["code"] == "not_found"


def test_markdown_is_sanitized_once_on_save(app):
    from campus.learning.rendering import render_markdown

    html = render_markdown("Hi <img src=x onerror=alert(1)> [x](javascript:alert(1)) **b**")
    assert "<img" not in html and 'href="javascript' not in html and "<strong>b</strong>" in html
    with app.app_context():
        from campus.extensions import db
        from campus.learning.models import Lesson

        info = make_course("render")
        lesson = db.session.get(Lesson, info.lesson_ids[0])
        lesson.body_markdown = "# Title\n\n<iframe src=evil></iframe> *ok*"
        db.session.commit()
        assert "<iframe" not in lesson.body_html and "<em>ok</em>" in lesson.body_html


@pytest.mark.parametrize(
    ("url", "embed"),
    [
        (
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        ),
        ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"),
        ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871?dnt=1"),
        ("", None),
    ],
)
def test_video_links_become_privacy_friendly_embeds(url, embed):
    from campus.learning.rendering import video_embed_url

    assert video_embed_url(url) == embed


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)",
        "https://www.youtube.com/watch?v=short",
        "https://vimeo.com/not-a-video",
        "https://youtube.com.evil.example/embed/dQw4w9WgXcQ",
        # `$` also matches before a final line break: the embed address kept one.
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ%0A",
    ],
)
def test_video_links_from_other_hosts_are_refused(url):
    from campus.learning.rendering import VideoURLError, video_embed_url

    with pytest.raises(VideoURLError):
        video_embed_url(url)


def test_lesson_page_embeds_an_allowed_video(app, client):
    with app.app_context():
        from campus.extensions import db
        from campus.learning import services
        from campus.learning.models import Module

        info = make_course("video")
        module = db.session.scalar(select(Module).where(Module.course_id == info.id).limit(1))
        lesson = services.add_lesson(
            module, "Watch", "Body", video_url="https://youtu.be/dQw4w9WgXcQ"
        )
        db.session.commit()
        lesson_id = lesson.id
    make_reader(app, "member", client, info)
    html = client.get(f"/courses/video/lessons/{lesson_id}").get_data(as_text=True)
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in html


# --- dashboard -------------------------------------------------------------------------------


def _complete(app, user_id, course, when):
    from campus.extensions import db
    from campus.learning.models import Enrollment

    with app.app_context():
        e = db.session.scalar(
            select(Enrollment).where(
                Enrollment.user_id == user_id, Enrollment.course_id == course.id
            )
        )
        e.completed_at, e.status = when, "completed"
        e.ce_hours_earned = Decimal("4") if course.slug == "hip" else Decimal("1.5")
        db.session.commit()


def test_dashboard_sums_ce_hours_this_year_and_over_a_range(app, client, courses):
    hip, neck, long_course, _ = courses
    user_id = make_reader(app, "member", client, hip)
    from tests.learning.helpers import enroll_directly

    with app.app_context():
        enroll_directly(user_id, neck.id)
        enroll_directly(user_id, long_course.id)
    now = datetime.now(UTC)
    last_year = now.replace(year=now.year - 1, month=6, day=15)
    _complete(app, user_id, hip, now - timedelta(minutes=1))
    _complete(app, user_id, neck, last_year)
    html = client.get("/learning/").get_data(as_text=True)
    assert f"CE hours earned in {now.year}" in html
    assert '<p class="stat-value">4</p>' in html
    assert "Full body 100% review" in html  # in progress
    ranged = client.get(f"/learning/?from={now.year - 1}-01-01&to={now.date().isoformat()}")
    assert "5.5 CE hours</strong> from 2 completed courses" in ranged.get_data(as_text=True)
    only_last = client.get(f"/learning/?from={now.year - 1}-06-15&to={now.year - 1}-06-15")
    assert "1.5 CE hours</strong> from 1 completed course." in only_last.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?from=2026-13-01", "YYYY-MM-DD"),
        ("?from=yesterday", "YYYY-MM-DD"),
        ("?from=2026-05-01&to=2026-04-01", "on or before the end date"),
        ("?from=1900-01-01", "between the year 2000"),
    ],
)
def test_dashboard_rejects_bad_ranges_clearly(app, client, query, message):
    make_reader(app, "member", client, None)
    response = client.get(f"/learning/{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_dashboard_needs_sign_in(client):
    assert "/login" in client.get("/learning/").headers["Location"]


def test_dashboard_and_progress_are_the_owners_only(app, client, courses):
    owner = app.test_client()
    make_reader(app, "member", owner, courses[0])
    make_reader(app, "member", client, None)
    html = client.get("/learning/").get_data(as_text=True)
    assert "Hip and thigh work" not in html
    mine = client.get("/api/v1/enrollments").get_json()
    assert mine == {"enrollments": [], "total_ce_hours_earned": 0.0}


# --- API document and demo -------------------------------------------------------------------


def test_openapi_document_lists_the_learning_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/courses",
        "/api/v1/courses/{slug}",
        "/api/v1/enrollments",
        "/api/v1/courses/{slug}/enroll",
        "/api/v1/lessons/{lesson_id}/complete",
        "/api/v1/courses/{slug}/quiz/attempts",
    ):
        assert path in paths, path
    assert "429" in paths["/api/v1/courses/{slug}/quiz/attempts"]["post"]["responses"]


def test_demo_seed_creates_two_courses_once(app):
    from campus.extensions import db
    from campus.learning import demo
    from campus.learning.models import Course, Lesson, Question

    with app.app_context():
        first = demo.seed()
        db.session.commit()
        again = demo.seed()
        assert len(first) == 2 and again == []
        hip = db.session.scalar(select(Course).where(Course.slug == demo.HIP_SLUG))
        assert hip.ce_hours == Decimal("2") and hip.delivery_type == "home_study"
        assert hip.approvals[0].board == "NCBTMB" and hip.approvals[0].valid_until is not None
        assert len(hip.modules) == 3
        assert len(db.session.scalars(select(Lesson).where(Lesson.course_id == hip.id)).all()) == 8
        questions = db.session.scalars(
            select(Question).where(Question.quiz_id == hip.quiz.id)
        ).all()
        assert len(questions) >= 2 * hip.quiz.questions_per_attempt == 20
        assert hip.quiz.drawn_count() == 10 and hip.quiz.pass_mark_percent == 70
        assert {q.kind for q in questions} == {"single", "multiple"}
        neck = db.session.scalar(select(Course).where(Course.slug == demo.NECK_SLUG))
        assert neck.ce_hours == Decimal("1") and neck.is_published


def test_content_snapshots_follow_every_edit(app, client, courses):
    """Cached catalog cards and lesson outlines change as soon as the content changes."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval, Choice, Course, Lesson

    app.config["LEARNING_CATALOG_STAMP_SECONDS"] = 0  # re-read the catalog stamp every time
    hip = courses[0]
    make_reader(app, "member", client, hip)
    lesson_url = f"/courses/hip/lessons/{hip.lesson_ids[0]}"
    assert "BOC 77-1" not in _shown(client.get("/courses/").get_data(as_text=True))
    assert "Lesson 1" in client.get(lesson_url).get_data(as_text=True)
    with app.app_context():
        db.session.add(BoardApproval(course_id=hip.id, board="BOC", approval_number="77-1"))
        db.session.commit()
    assert "BOC 77-1" in _shown(client.get("/courses/").get_data(as_text=True))
    with app.app_context():
        db.session.get(Lesson, hip.lesson_ids[0]).title = "Renamed lesson"
        db.session.commit()
    assert "Renamed lesson" in client.get(lesson_url).get_data(as_text=True)
    with app.app_context():
        before = db.session.get(Course, hip.id).updated_at
        db.session.get(Choice, hip.questions[0].choices[0]).text = "Edited"
        db.session.commit()
        assert db.session.get(Course, hip.id).updated_at > before


def test_lesson_page_follows_course_edits_and_unpublishing(app, client, courses):
    """A lesson page shows the course's current title and text, and 404s once it is a draft."""
    from campus.extensions import db
    from campus.learning.models import Course, Lesson

    hip = courses[0]
    make_reader(app, "member", client, hip)
    lesson_url = f"/courses/hip/lessons/{hip.lesson_ids[1]}"
    first = client.get(lesson_url)
    assert first.status_code == 200
    with app.app_context():
        db.session.get(Course, hip.id).title = "Hip and thigh, second edition"
        db.session.commit()
    page = client.get(lesson_url).get_data(as_text=True)
    assert "Hip and thigh, second edition" in page
    with app.app_context():
        db.session.get(Lesson, hip.lesson_ids[1]).body_html = "<p>Rewritten lesson text</p>"
        db.session.commit()
    assert "Rewritten lesson text" in client.get(lesson_url).get_data(as_text=True)
    with app.app_context():
        db.session.get(Course, hip.id).status = "draft"
        db.session.commit()
    assert client.get(lesson_url).status_code == 404
    assert client.get("/courses/nowhere/lessons/1").status_code == 404


def test_catalog_stamp_is_reread_after_its_second(app, client, courses):
    """Within LEARNING_CATALOG_STAMP_SECONDS the catalog answers from memory, then catches up."""
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    app.config["LEARNING_CATALOG_STAMP_SECONDS"] = 3600
    assert "BOC 88-2" not in _shown(client.get("/courses/").get_data(as_text=True))
    with app.app_context():
        db.session.add(BoardApproval(course_id=courses[0].id, board="BOC", approval_number="88-2"))
        db.session.commit()
    assert "BOC 88-2" not in _shown(client.get("/courses/").get_data(as_text=True))
    app.config["LEARNING_CATALOG_STAMP_SECONDS"] = 0
    assert "BOC 88-2" in _shown(client.get("/courses/").get_data(as_text=True))


def test_a_lesson_moved_to_another_course_leaves_the_course_it_was_in(app, client, courses):
    """Once a lesson moves to another course, the course it left neither lists nor serves it."""
    from campus.audit import snapshot
    from campus.extensions import db
    from campus.learning import actions, services
    from campus.learning.models import Lesson, Module

    hip, long = courses[0], courses[2]
    with app.app_context():
        first = db.session.scalars(
            select(Module).where(Module.course_id == hip.id).order_by(Module.position)
        ).first()
        extra = services.add_lesson(first, "Extra stretches", "Body", estimated_minutes=30)
        db.session.commit()
        extra_id = extra.id
    make_reader(app, "member", client, hip)
    lesson_url = f"/courses/hip/lessons/{extra_id}"
    assert "Extra stretches" in client.get(lesson_url).get_data(as_text=True)
    with app.app_context():
        lesson = db.session.get(Lesson, extra_id)
        before = snapshot(lesson)
        lesson.module = db.session.scalars(
            select(Module).where(Module.course_id == long.id).order_by(Module.position)
        ).first()
        actions.save_lesson(lesson, before=before, actor=None)
        db.session.commit()
    assert client.get(lesson_url).status_code == 404
    outline = client.get(f"/courses/hip/lessons/{hip.lesson_ids[0]}").get_data(as_text=True)
    assert "Extra stretches" not in outline


def test_a_module_moved_to_another_course_changes_the_course_it_left(app):
    """Both courses' content versions move, so neither keeps a snapshot from before."""
    from campus.audit import snapshot
    from campus.extensions import db
    from campus.learning import actions
    from campus.learning.models import Course, Module

    with app.app_context():
        left = make_course("left", published=False)
        joined = make_course("joined", published=False)
        stamp = db.session.get(Course, left.id).updated_at
        module = db.session.scalars(select(Module).where(Module.course_id == left.id)).first()
        before = snapshot(module)
        module.course = db.session.get(Course, joined.id)
        module.position = 9
        actions.save_module(module, before=before, actor=None)
        db.session.commit()
        assert db.session.get(Course, left.id).updated_at > stamp


def test_catalog_shows_an_edit_made_on_a_host_whose_clock_is_behind(app, fresh_app, courses):
    """Two web hosts: an edit saved on one whose clock runs late still reaches the other."""
    import time_machine

    from campus.extensions import db
    from campus.learning.models import Course

    app.config["LEARNING_CATALOG_STAMP_SECONDS"] = 0
    with app.app_context():
        db.session.get(Course, courses[1].id).title = "Neck and shoulder, revised"
        db.session.commit()
    assert "Neck and shoulder, revised" in app.test_client().get("/courses/").get_data(as_text=True)
    with (
        time_machine.travel(datetime.now(UTC) - timedelta(seconds=5), tick=False),
        fresh_app.app_context(),
    ):
        db.session.get(Course, courses[0].id).title = "Hip and thigh, second edition"
        db.session.commit()
    page = app.test_client().get("/courses/").get_data(as_text=True)
    assert "Hip and thigh, second edition" in page


def test_the_course_api_lists_only_approvals_in_force_as_the_catalog_does(app, client):
    import time_machine

    from campus import dates
    from campus.extensions import db
    from campus.learning.models import BoardApproval

    with app.app_context():
        course = make_course("lapsing", title="Lapsing approval", ce_hours="2")
        approval = db.session.scalars(
            select(BoardApproval).where(BoardApproval.course_id == course.id)
        ).one()
        # The app's calendar (outside an app context the zone is another one).
        lapses_on = dates.today() + timedelta(days=10)
        approval.valid_until = lapses_on
        db.session.commit()
    (card,) = client.get("/api/v1/courses").get_json()["courses"]
    assert [a["board"] for a in card["approvals"]] == ["NCBTMB"]
    with time_machine.travel(datetime.now(UTC) + timedelta(days=30), tick=False):
        (card,) = client.get("/api/v1/courses").get_json()["courses"]
        detail = client.get("/api/v1/courses/lapsing").get_json()
    assert card["approvals"] == []
    # The course page lists every approval, marking a lapsed one expired; so does its JSON.
    assert [a["valid_until"] for a in detail["approvals"]] == [lapses_on.isoformat()]
    document = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "in force" in document["CourseSummary"]["properties"]["approvals"]["description"]


def test_adding_up_a_range_opens_at_the_sum_or_at_the_refused_date(app, client):
    make_reader(app, "member", client, None)
    # The range form sits a screen or more down a phone's dashboard: the page it sends back
    # opens at its answer, so the browser scrolls there and a screen reader reads it first.
    summed = client.get("/learning/?from=2026-01-01&to=2026-06-30").get_data(as_text=True)
    result = re.search(r'<p class="range-result"[^>]*>', summed)
    assert result and 'tabindex="-1"' in result.group(0) and "autofocus" in result.group(0)
    assert summed.count("autofocus") == 1
    refused = client.get("/learning/?from=yesterday").get_data(as_text=True)
    start = re.search(r'<input type="date" id="from"[^>]*>', refused)
    assert start and "autofocus" in start.group(0) and refused.count("autofocus") == 1
    assert "autofocus" not in client.get("/learning/").get_data(as_text=True)  # nothing asked


def test_a_course_taken_out_of_the_catalog_is_not_offered_to_continue_and_its_progress_shows(
    app, client
):
    from campus.extensions import db
    from campus.learning import actions
    from campus.learning.models import Course
    from tests.learning.helpers import make_course

    with app.app_context():
        course = make_course("closing-soon", title="Closing soon")
    make_reader(app, "member", client, course)
    with app.app_context():  # an admin takes it out of the catalog
        actions.unpublish(db.session.get_one(Course, course.id), actor=None)
        db.session.commit()
    assert client.get("/courses/closing-soon").status_code == 404
    html = client.get("/learning/").get_data(as_text=True)
    assert "Closing soon" in html
    assert "/courses/closing-soon" not in html  # no link to a page that is not there
    assert "out of the catalog for now" in html
    assert "0 of 3 lessons" in html


def test_a_visitors_log_in_link_on_a_course_comes_back_under_the_path_prefix(_database):
    # Served under a prefix, the way back after logging in must hold it too: the bare path
    # would send the member, once signed in, to a page of whatever else the host serves.
    from tests import support

    app = support.make_app(PROXY_FIX_X_PREFIX=1)
    try:
        with app.app_context():
            make_course("prefixed")
        page = app.test_client().get("/courses/prefixed", headers={"X-Forwarded-Prefix": "/campus"})
        assert page.status_code == 200
        assert 'href="/campus/login?next=/campus/courses/prefixed">Log in' in page.text
    finally:
        support.clean_database(app)


def test_catalog_pages_link_on_whatever_the_query_names(app, client, monkeypatch):
    # The page links carry the query: a parameter named like url_for's own (endpoint) was a
    # 500, and _external or _anchor changed the link itself (absolute on the request's Host).
    from campus.learning import catalog

    monkeypatch.setattr(catalog, "CATALOG_PAGE_SIZE", 1)
    with app.app_context():
        make_course("first-course", lessons=1)
        make_course("second-course", lessons=1)
    page = client.get("/courses/?q=course&endpoint=x&_external=1&_anchor=top")
    assert page.status_code == 200
    [link] = re.findall(r'href="([^"]*)" *>Next', page.get_data(as_text=True))
    assert link == "/courses/?page=2&amp;q=course"
