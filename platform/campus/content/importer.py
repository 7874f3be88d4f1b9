"""Import articles from Markdown files with YAML front matter (`flask content import DIR`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import frontmatter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campus import dates
from campus.accounts.models import User
from campus.accounts.rules import invisible_mark
from campus.content import actions
from campus.content.models import PUBLISHED, Article
from campus.content.services import ContentError, slugify
from campus.extensions import db
from campus.yamlfiles import UniqueKeyYAMLHandler


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    # A day or a time written without a zone is the provider's, as the page shows it: 09:00 UTC
    # of May 4 is May 3 in Honolulu.
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=dates.zone())
    if isinstance(value, date):
        return datetime.combine(value, time(9, 0), tzinfo=dates.zone())
    try:
        return _as_datetime(datetime.fromisoformat(str(value)))
    except ValueError:
        raise ContentError(f"published {value!r} is not a date like 2026-03-04") from None


def _line(text: str, key: str) -> str:
    """One line of text as the admin takes it: no control or text-direction characters."""
    # A right-to-left override shows a title, byline or muscle reversed on every page.
    mark = invisible_mark(text)
    if mark:
        raise ContentError(
            f"`{key}` holds an invisible control or text-direction character ({mark})"
        )
    return text


def _as_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [_line(v.strip(), name) for v in value]
    raise ContentError(f"{name} must be a list of names")


def _text(meta: dict[str, Any], key: str, default: str = "") -> str:
    """A front-matter field that holds text (a number reads as its digits), else refuse it."""
    value = meta.get(key)
    if value is None:
        return default
    # str() of a list or mapping would be stored and shown to readers: "['A', 'B']".
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ContentError(f"`{key}` must be text, not {value!r}")
    return str(value)


def _current(slug: str) -> dict[str, Any]:
    """What a field the file leaves out reads as: the article's own value, or a new one's."""
    # An admin's edit (back to draft, opened to everyone, filed elsewhere) must survive the
    # next import of the same file when the file never said otherwise.
    article = db.session.scalar(select(Article).where(Article.slug == slug.strip().lower()))
    if article is None:
        return {"summary": "", "visibility": "paid", "status": PUBLISHED, "category": "",
                "tags": [], "author": ""}  # fmt: skip
    return {
        "summary": article.summary,
        "visibility": article.visibility,
        "status": article.status,
        "category": article.category.name if article.category else "",
        "tags": [tag.name for tag in article.tags],
        "author": article.author_name,
    }


def _read(path: Path) -> str:
    """The text of one article file in the folder, or a ContentError saying why not."""
    # A link to the server's settings or another folder's file would be published as an article.
    if not path.resolve().is_relative_to(path.parent.resolve()):
        raise ContentError("is a link to a file outside the folder")
    try:
        # utf-8-sig: a byte-order mark (Notepad's UTF-8) would hide the front matter.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ContentError("the file is not UTF-8 text") from None
    except IsADirectoryError:
        raise ContentError("is a folder, not a file") from None
    except OSError as exc:
        raise ContentError(f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def import_markdown(path: Path, *, actor: User | None) -> tuple[Article, bool]:
    """Create or update the article in one Markdown file with front matter; (article, created)."""
    text = _read(path)
    try:
        # A field written twice is refused: plain YAML would keep the last one unsaid.
        post = frontmatter.loads(text, handler=UniqueKeyYAMLHandler())
    except Exception as exc:  # the YAML parser's errors have many types
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "integer string conversion" in why:  # Python's own limit, whose advice is for coders
            why = "a number is more than 4,300 digits long"
        raise ContentError(f"the front matter is not valid YAML ({why})") from None
    meta = post.metadata
    title = meta.get("title")
    if not isinstance(title, str):
        raise ContentError("the front matter needs a title")
    slug = _text(meta, "slug") or slugify(path.stem)
    current = _current(slug)
    tags = meta.get("tags")
    return actions.save_article(
        actor=actor,
        slug=slug,
        title=_line(title.strip(), "title"),
        summary=_text(meta, "summary", current["summary"]),
        body_md=post.content,
        visibility=_text(meta, "visibility", current["visibility"]),
        status=_text(meta, "status", current["status"]),
        category=_line(_text(meta, "category", current["category"]).strip(), "category") or None,
        tags=current["tags"] if tags is None else _as_list(tags, "tags"),
        author_name=_line(_text(meta, "author", current["author"]).strip(), "author"),
        published_at=_as_datetime(meta.get("published")),
    )


@dataclass
class ImportReport:
    """What an import did, file by file."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def import_directory(folder: Path, *, actor: User | None) -> ImportReport:
    """Import every *.md file in a folder; a bad file is reported and the others still go in.

    Each article is saved through `actions.save_article`, so every one is audited.
    """
    report = ImportReport()
    # The format is *.md: a file saved as .MD would be passed over without a word.
    for path in sorted(folder.iterdir()):
        if path.suffix != ".md" and path.suffix.lower() == ".md":
            report.failed.append((path.name, "only files ending in .md (lower case) are read"))
    files_of: dict[str, str] = {}  # slug -> the file of this import that holds it
    for path in sorted(folder.glob("*.md")):
        try:
            with db.session.begin_nested():
                article, created = import_markdown(path, actor=actor)
                # A second file with the slug would overwrite the first's article unsaid.
                if article.slug in files_of:
                    raise ContentError(
                        f"the slug {article.slug!r} is also that of {files_of[article.slug]}"
                    )
        except (ContentError, IntegrityError) as exc:
            report.failed.append((path.name, str(exc).splitlines()[0]))
            continue
        files_of[article.slug] = path.name
        (report.created if created else report.updated).append(article.slug)
    return report
