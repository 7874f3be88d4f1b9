"""Demo content: the six trigger-point articles kept as Markdown files, and the free guide."""

from __future__ import annotations

from pathlib import Path

from campus.content import downloads, importer
from campus.content.guide_pdf import build_stretching_guide
from campus.storage import get_storage

ARTICLES = Path(__file__).parent / "demo_articles"
GUIDE_SLUG = "hip-and-thigh-stretching-guide"
GUIDE_FILE = "campus-hip-and-thigh-stretching-guide.pdf"


def seed() -> list[str]:
    """Import the demo articles (update in place) and create the stretching guide download."""
    report = importer.import_directory(ARTICLES, actor=None)
    if report.failed:
        raise RuntimeError(f"demo articles failed to import: {report.failed}")
    lines = [f"created article {slug}" for slug in report.created]
    pages = None
    if not get_storage().exists(downloads.storage_key(GUIDE_FILE)):
        document, pages = build_stretching_guide()
        downloads.store_file(GUIDE_FILE, document)
    existing = downloads.active_download(GUIDE_SLUG)
    _, created = downloads.save_download(
        slug=GUIDE_SLUG,
        title="Hip and Thigh Stretching Guide",
        description=(
            "Six stretches for the hamstrings, deep hip rotators, "
            "hip flexors, quadriceps, lateral hip and adductors, with hold times, cues and the "
            "signs that mean stop. A handout you can give to clients, free as a PDF."
        ),
        filename=GUIDE_FILE,
        pages=pages or (existing.pages if existing else 1),
    )
    if created:
        lines.append(f"created download {GUIDE_SLUG}")
    return lines
