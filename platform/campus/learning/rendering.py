"""Lesson and course text: Markdown to sanitized HTML, and video links to allowed embeds."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import event
from sqlalchemy.orm import InstrumentedAttribute

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable(
    "table"
)

ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
    "a", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}}

# Read with fullmatch: `$` also matches before a final line break ("v=...%0A").
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_VIMEO_ID = re.compile(r"[0-9]{6,12}")


class VideoURLError(ValueError):
    """A video link that is not on an allowed host or not a video address."""


def render_markdown(source: str) -> str:
    """Render Markdown to HTML that keeps only safe tags, attributes and URL schemes."""
    html = _md.render(source or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_on_set(source: InstrumentedAttribute, html_name: str) -> None:
    """Store the sanitized HTML of a Markdown column in `html_name` whenever it is set."""

    @event.listens_for(source, "set")
    def _render(target: object, value: str, _old: object, _initiator: object) -> None:
        # Render once when the source changes, never per request.
        setattr(target, html_name, render_markdown(value))


def video_embed_url(url: str | None) -> str | None:
    """Turn a YouTube or Vimeo link into its privacy-friendly embed URL; refuse other hosts."""
    if not url or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
        hostname = parts.hostname
    except ValueError:  # an unclosed "[" host, or one with characters no address has
        raise VideoURLError("That is not a web address.") from None
    if parts.scheme not in ("http", "https"):
        raise VideoURLError("Video links must start with https://.")
    host = (hostname or "").lower().removeprefix("www.").removeprefix("m.")
    path = parts.path.rstrip("/")
    video_id = None
    if host in ("youtube.com", "youtube-nocookie.com"):
        if path == "/watch":
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif path.startswith(("/embed/", "/shorts/")):
            video_id = path.split("/")[2]
        if video_id and _YOUTUBE_ID.fullmatch(video_id):
            return f"https://www.youtube-nocookie.com/embed/{video_id}"
    elif host == "youtu.be":
        video_id = path.lstrip("/")
        if _YOUTUBE_ID.fullmatch(video_id):
            return f"https://www.youtube-nocookie.com/embed/{video_id}"
    elif host in ("vimeo.com", "player.vimeo.com"):
        video_id = path.split("/")[-1]
        if _VIMEO_ID.fullmatch(video_id):
            return f"https://player.vimeo.com/video/{video_id}?dnt=1"
    else:
        raise VideoURLError("Videos can only be embedded from YouTube or Vimeo.")
    raise VideoURLError("That link does not point at a YouTube or Vimeo video.")
