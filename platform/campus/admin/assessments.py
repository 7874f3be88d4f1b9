"""The assessment queue: practical videos waiting for review, the rubric, pass or return.

This is the one admin page an assessor may open (admins may too); every other admin view
refuses them. The video streams from storage through an access-checked route.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, stream_with_context, url_for
from flask_admin import BaseView, expose
from flask_login import current_user
from sqlalchemy import select
from wtforms import RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from campus.admin import security
from campus.admin.base import select_choices
from campus.admin.refusals import flash_form_refusals, flash_refusal
from campus.byteranges import byte_range
from campus.extensions import db
from campus.forms import Form, printable_text
from campus.programs import actions, practicals
from campus.programs.models import PracticalSubmission
from campus.programs.progress import credential_within_reach
from campus.storage import get_storage

CHUNK = 256 * 1024


class ReviewForm(Form):
    """The assessor's decision; the rubric checkboxes are read by criterion index."""

    decision = RadioField(
        "Decision",
        choices=select_choices([("pass", "Pass"), ("return", "Return with comments")]),
        validators=[DataRequired("Choose pass or return.")],
    )
    comments = TextAreaField(
        "Comments to the candidate",
        validators=[Optional(), Length(max=4000)],
        filters=[printable_text],
    )


class AssessmentView(BaseView):
    """/admin/assessments/: the queue of practicals and their reviews."""

    def __init__(self, session: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def is_accessible(self) -> bool:
        return security.is_admin() or security.is_assessor()

    def inaccessible_callback(self, name: Any, **kwargs: Any):
        from campus.accounts.access import admin_refusal

        refusal = admin_refusal(assessors=True)
        if refusal is None:
            abort(403)
        return refusal

    def _submission_or_404(self, submission_id: int) -> PracticalSubmission:
        submission = db.session.get(PracticalSubmission, submission_id)
        if submission is None:
            abort(404)
        return submission

    @expose("/")
    def index(self):
        """List the practicals waiting for review, oldest first, then the recent reviews."""
        waiting = db.session.scalars(
            select(PracticalSubmission)
            .where(PracticalSubmission.status == "submitted")
            .order_by(PracticalSubmission.id)
        ).all()
        reviewed = db.session.scalars(
            select(PracticalSubmission)
            .where(PracticalSubmission.status != "submitted")
            .order_by(PracticalSubmission.reviewed_at.desc())
            .limit(30)
        ).all()
        return self.render("admin/campus/assessments.html", waiting=waiting, reviewed=reviewed)

    @expose("/<int:submission_id>/", methods=("GET", "POST"))
    def review(self, submission_id: int):
        """Show a practical with its video and rubric; record the pass or the return."""
        submission = self._submission_or_404(submission_id)
        form = ReviewForm()
        # The marks are read by position: on a rubric changed since the page was opened, they
        # would land on other criteria, and the candidate would be told so.
        key = practicals.rubric_key(submission.program)
        marked: set[int] = set()  # criteria ticked on a refused review, ticked again on the page
        if request.method == "POST" and request.form.get("rubric") not in (None, key):
            flash(
                "Nothing was recorded: the rubric changed since this page was opened. "
                "Mark it again below.",
                "error",
            )
        elif request.method == "POST":
            marked = {
                n
                for n in range(len(submission.program.criteria))
                if request.form.get(f"criterion-{n}") == "met"
            }
            if form.validate_on_submit():
                marks = {
                    criterion: request.form.get(f"criterion-{n}") == "met"
                    for n, criterion in enumerate(submission.program.criteria)
                }
                try:
                    actions.review_practical(
                        submission,
                        current_user._get_current_object(),
                        marks,
                        form.decision.data,
                        form.comments.data or "",
                    )
                    db.session.commit()
                except practicals.PracticalError as exc:
                    db.session.rollback()
                    flash_refusal("Nothing was recorded", exc.message)
                    # Said at its field too (which takes the focus), below the video and rubric.
                    if exc.field in ("comments", "decision"):
                        form[exc.field].errors = [exc.message]
                else:
                    flash(
                        f"The practical was {submission.status}; the candidate is emailed.",
                        "success",
                    )
                    return redirect(url_for(".index"))
            else:
                flash_form_refusals("Nothing was recorded", form)
        return self.render(
            "admin/campus/assessment_review.html",
            submission=submission,
            form=form,
            rubric_key=key,
            marked=marked,
            # A video sent again answers a return: its comments are what to check it against.
            earlier=practicals.earlier_reviews(submission),
            within_reach=credential_within_reach(submission.user, submission.program),
        )

    @expose("/<int:submission_id>/video")
    def video(self, submission_id: int):
        """Stream a practical's video to the assessor, never cached, seekable by byte range."""
        submission = self._submission_or_404(submission_id)
        if submission.video_removed_at is not None:
            abort(404, "The video was removed after its retention.")
        storage = get_storage()
        length = storage.size(submission.storage_key)
        if length is None:
            abort(404, "The video is missing from storage.")
        start, stop, status = 0, length, 200
        # The video has no ETag or Last-Modified an If-Range could match: HTTP then wants it
        # whole, not a part of a file that may have changed.
        wanted = None
        if "If-Range" not in request.headers:
            wanted = byte_range(request.headers.get("Range"), length)  # past the end: a 416
        if wanted is not None:
            (start, stop), status = wanted, 206
        handle = storage.open(submission.storage_key, start, stop)

        def chunks():
            left = stop - start
            with handle:
                while left > 0 and (piece := handle.read(min(CHUNK, left))):
                    left -= len(piece)
                    yield piece

        response = Response(
            stream_with_context(chunks()), status=status, mimetype=submission.content_type
        )
        # Closed when the body is sent, and with the response when none of it is (a HEAD
        # request, a client gone at once).
        response.call_on_close(handle.close)
        response.content_length = stop - start
        response.headers["Accept-Ranges"] = "bytes"
        if status == 206:
            response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["Content-Disposition"] = "inline"
        return response
