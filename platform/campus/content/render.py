"""Markdown to sanitized HTML, split at the cut marker: done once, when an article is saved.

The cut marker is a line holding only `<!-- more -->`. Everything above it is the preview that
readers without access see; without a marker the preview is the first paragraph.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt

CUT_MARKER = "<!-- more -->"
_CUT = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE | re.IGNORECASE)

# Embedded video is allowed only from these hosts, over https.
VIDEO_HOSTS = frozenset({"www.youtube-nocookie.com", "youtube-nocookie.com", "player.vimeo.com"})

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del",
    "mark", "sub", "sup", "small", "blockquote", "code", "pre", "ul", "ol", "li", "dl", "dt",
    "dd", "a", "img", "figure", "figcaption", "table", "thead", "tbody", "tr", "th", "td",
    "iframe", "abbr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "iframe": {"src", "title", "width", "height", "allow", "allowfullscreen", "loading"},
    "th": {"align", "scope"},
    "td": {"align"},
    "ol": {"start"},
    "abbr": {"title"},
    "code": {"class"},
}
_EMPTY_IFRAME = re.compile(r"<iframe(?![^>]*\ssrc=)[^>]*>.*?</iframe>", re.DOTALL)
_WORDS = re.compile(r"\w+")

_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


@dataclass(frozen=True)
class Rendered:
    """What an article's Markdown becomes."""

    preview_html: str
    full_html: str
    preview_text: str
    full_text: str
    has_cut: bool
    reading_minutes: int


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if tag == "iframe" and attr == "src":
        parts = urlsplit(value)
        # The whole authority, not the host Python finds in it: browsers read a backslash as
        # a slash, so "https://evil.example\@player.vimeo.com/" loads evil.example.
        if parts.scheme != "https" or parts.netloc.lower() not in VIDEO_HOSTS:
            return None
    if tag == "code" and attr == "class" and not re.fullmatch(r"language-[\w+-]+", value):
        return None
    return value


def sanitize(raw_html: str) -> str:
    """Keep only safe markup: no scripts, styles, event handlers or foreign frames."""
    cleaned = nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    # An iframe whose source was refused has nothing left to show.
    return _EMPTY_IFRAME.sub("", cleaned).strip()


def markdown_to_html(source: str) -> str:
    """Render Markdown and sanitize the result."""
    return sanitize(_md.render(source))


def html_to_text(fragment: str) -> str:
    """Return the visible text of sanitized HTML, whitespace collapsed."""
    text = nh3.clean(re.sub(r"<(/p|br|/h\d|/li|/td|/th)>", r" <\1>", fragment), tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def split_at_cut(source: str) -> tuple[str, str, bool]:
    """Return (preview source, full source without the marker, whether a marker was found)."""
    match = _CUT.search(source)
    if match:
        return source[: match.start()], source[: match.start()] + source[match.end() :], True
    paragraphs = re.split(r"\n[ \t]*\n", source.strip(), maxsplit=1)
    return paragraphs[0], source, False


def render_article(source: str) -> Rendered:
    """Render an article body into its preview and full forms, HTML and plain text."""
    source = source.replace("\r\n", "\n")
    preview_src, full_src, has_cut = split_at_cut(source)
    preview_html = markdown_to_html(preview_src)
    full_html = markdown_to_html(full_src)
    full_text = html_to_text(full_html)
    words = len(_WORDS.findall(full_text))
    return Rendered(
        preview_html=preview_html,
        full_html=full_html,
        preview_text=html_to_text(preview_html),
        full_text=full_text,
        has_cut=has_cut,
        reading_minutes=max(1, round(words / 220)),
    )
