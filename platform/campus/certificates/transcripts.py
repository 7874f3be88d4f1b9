"""CE transcripts: a student's issued certificates over a date range, as CSV or PDF."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from campus import dates
from campus.accounts.models import User
from campus.certificates import pdf
from campus.certificates.models import Certificate, CertificateCode, CertificateEvent, stands
from campus.certificates.services import verification_url
from campus.certificates.transcript_pdf import render_transcript
from campus.exports import safe_cell
from campus.extensions import db
from campus.licenses.services import licenses_for
from campus.models.base import utcnow
from campus.templating import format_date


def transcript_certificates(user: User, start: date, end: date) -> list[Certificate]:
    """Standing certificates whose printed completion date is within a range (both days included).

    Standing: issued, or being reissued (`models.stands`), listed as it stands (see `codes_now`
    for the code it is listed under).

    The printed date, not today's calendar's: one issued under an earlier TIME_ZONE setting may
    print the day after (or before) the moment's day now, and the transcript lists it as printed.
    """
    low, high = dates.days_between(start - timedelta(days=1), end + timedelta(days=1))
    near = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.user_id == user.id,
            stands(Certificate),
            Certificate.completed_at >= low,
            Certificate.completed_at < high,
        )
        .order_by(Certificate.completed_at, Certificate.id)
    )
    return [c for c in near if start <= c.printed_date <= end]


def codes_now(rows: list[Certificate]) -> dict[int, str]:
    """The code each certificate verifies under now, by its id.

    Its own; while a reissue is drawn (or retried) the new code's page is not open yet, so the
    code it replaces, whose page names the new one (being prepared, or delayed if given up): the
    last code it was issued under, whose credential stands (a reissue given up and reissued
    again retired a code no certificate was ever issued under).
    """
    codes = {c.id: c.code for c in rows}
    reissuing = [c.id for c in rows if c.status != "issued"]
    if reissuing:
        issued_under = select(CertificateEvent.id).where(
            CertificateEvent.certificate_id == CertificateCode.certificate_id,
            CertificateEvent.code == CertificateCode.code,
            CertificateEvent.kind == "issued",
        )
        retired = db.session.execute(
            select(CertificateCode.certificate_id, CertificateCode.code)
            .where(
                CertificateCode.certificate_id.in_(reissuing),
                CertificateCode.retired_at.is_not(None),
                issued_under.exists(),
            )
            .order_by(CertificateCode.retired_at, CertificateCode.id)
        )
        for certificate_id, code in retired:  # the latest retired last, so it stays
            codes[certificate_id] = code
    return codes


def _total(rows: list[Certificate]) -> Decimal:
    """The CE hours of the listed certificates (all standing: the certified count of them)."""
    return sum((Decimal(c.ce_hours) for c in rows), Decimal(0)).quantize(Decimal("0.01"))


def _approvals_text(data: dict) -> str:
    return "; ".join(f"{a['board']} {a['approval_number']}" for a in data.get("approvals", []))


def _row_note(data: dict, with_license: bool) -> str:
    """The line under a transcript row's title: its approvals, and its license when they differ."""
    approvals = _approvals_text(data)
    if not with_license:
        return approvals
    return f"For {pdf.license_line(data)}" + (f"  ·  {approvals}" if approvals else "")


def transcript_csv(user: User, start: date, end: date) -> str:
    """The transcript as CSV: one row per certificate, then the total."""
    rows = transcript_certificates(user, start, end)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "completion_date",
            "course_title",
            "ce_hours",
            "delivery_type",
            "approvals",
            "certificate_code",
            "verification_url",
            "participant_name",
            "license_number",
            "license_state",
        ]
    )
    codes = codes_now(rows)
    for c in rows:
        d = c.data
        writer.writerow(
            [
                d["completion_date"],
                safe_cell(d["course_title"]),
                pdf.hours_text(c.ce_hours),
                d["delivery_type"],
                safe_cell(_approvals_text(d)),
                codes[c.id],
                verification_url(codes[c.id]) if codes[c.id] != c.code else d["verification_url"],
                safe_cell(d["participant_name"]),
                safe_cell(d["license_number"]),
                safe_cell(d["license_state"]),
            ]
        )
    total = _total(rows)
    writer.writerow(["total", "", pdf.hours_text(total), "", "", "", "", "", "", ""])
    return out.getvalue()


def _first_license(user: User) -> dict:
    """The license a transcript without certificates names: the member's first, if any."""
    held = licenses_for(user.id)
    if not held:
        return {}
    return {"license_number": held[0].number, "license_state": held[0].jurisdiction}


def transcript_pdf(user: User, start: date, end: date) -> bytes:
    """The transcript as a printable PDF."""
    rows = transcript_certificates(user, start, end)
    config = current_app.config
    latest = rows[-1].data if rows else {}
    # Each certificate names the license it was earned for; a member with two licenses has
    # certificates for each, and one printed over all of them would misstate the others.
    licenses = list(dict.fromkeys(pdf.license_line(c.data) for c in rows))
    several = len(licenses) > 1
    codes = codes_now(rows)
    participant = {
        "name": latest.get("participant_name") or user.full_name,
        "license": "; ".join(licenses)
        if several
        else pdf.license_line(latest or _first_license(user)),
    }
    return render_transcript(
        participant=participant,
        provider={
            "name": config["PROVIDER_NAME"],
            "address": config["PROVIDER_ADDRESS"],
            "email": config["PROVIDER_EMAIL"],
        },
        rows=[
            {
                "completion_date": c.data["completion_date"],
                "course_title": c.data["course_title"],
                "ce_hours": c.ce_hours,
                "delivery_type": c.data["delivery_type"],
                "code": codes[c.id],
                "approvals": _row_note(c.data, several),
            }
            for c in rows
        ],
        start_text=format_date(start),
        end_text=format_date(end),
        total_hours=_total(rows),
        generated_text=format_date(utcnow()),
    )
