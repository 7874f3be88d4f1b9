"""Lesson and course Markdown is sanitized by the models themselves, whatever else is imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lesson_saved_without_importing_services_is_still_sanitised():
    # A fresh interpreter: in this one some test has long imported learning.services.
    script = textwrap.dedent(
        """
        import sys
        from campus.learning.models import Course, Lesson

        lesson = Lesson(body_markdown="Hi <script>alert(1)</script> [x](javascript:alert(1))")
        course = Course(description="<img src=x onerror=alert(1)>**bold**")
        assert "campus.learning.services" not in sys.modules, "services was imported"
        assert "<script" not in lesson.body_html and "href" not in lesson.body_html
        assert "&lt;script&gt;" in lesson.body_html
        assert "<img" not in course.description_html
        assert "<strong>bold</strong>" in course.description_html
        print("ok")
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
