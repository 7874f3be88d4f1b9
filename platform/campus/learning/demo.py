"""Demo CE courses, written as course files in demo_courses/ and added with the course importer.

"Trigger Point Therapy for the Hip and Thigh" (4 CE hours) and "Trigger Points of the Neck and
Shoulder" (1.5 CE hours): `flask --app wsgi learning import` reads the same format.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from campus.extensions import db
from campus.learning.course_files import course_folders, read_course
from campus.learning.importer import import_course
from campus.learning.models import Course

DEMO_COURSES = Path(__file__).resolve().parent / "demo_courses"
HIP_SLUG = "trigger-point-therapy-hip-and-thigh"
NECK_SLUG = "trigger-points-neck-and-shoulder"


def seed() -> list[str]:
    """Add the demo courses that are missing (matched by slug); leave existing ones as edited."""
    created: list[str] = []
    specs = [read_course(folder) for folder in course_folders(DEMO_COURSES)]
    existing = set(
        db.session.scalars(select(Course.slug).where(Course.slug.in_([s.slug for s in specs])))
    )
    for spec in specs:
        if spec.slug not in existing:
            import_course(spec, source="demo_courses")
            created.append(f"created course {spec.fields['title']} ({spec.slug})")
    return created
