"""Directory profiles: checking and saving what a member enters, publishing and hiding.

Services flush, never commit; `actions` wraps each change a person makes with its audit entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campus.accounts.models import User
from campus.accounts.rules import (
    has_letter,
    says_something,
    stacked_marks,
    stacked_marks_message,
)
from campus.directory import geo, taxonomy
from campus.directory.models import DirectoryProfile, ProfileProfession, ProfileSpecialty
from campus.extensions import db
from campus.models.base import utcnow
from campus.models.reads import slugs_and_changes
from campus.models.writes import is_duplicate

_T = TypeVar("_T")
MAX_BIO = 4000
MAX_SPECIALTIES = 8
_PHONE = re.compile(r"^[0-9+().\- ]{7,40}$")
_STATE = re.compile(r"^[A-Z]{2}$")
# Bios are plain text with light Markdown: no raw HTML, no images, links marked as user content.
_bio_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_BIO_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote"}


class DirectoryError(Exception):
    """A directory change that cannot be made; the message is safe to show."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        field: str | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field
        # Every bad field's message (the first is `field`'s), so a form shows them all at once.
        self.errors = dict(errors) if errors else ({field: message} if field else {})

    @classmethod
    def of_fields(cls, errors: dict[str, str]) -> DirectoryError:
        """One error naming every bad field (in form order), led by the first."""
        field, message = next(iter(errors.items()))
        return cls(message, 422, field, errors)


@dataclass
class ProfileData:
    """What a member enters for their profile (before it is checked)."""

    display_name: str
    zip_code: str
    practice_name: str = ""
    street: str = ""
    show_street: bool = False
    bio: str = ""
    website: str = ""
    phone: str = ""
    accepting_clients: bool = True
    contact_enabled: bool = True
    specialties: list[str] = field(default_factory=list)
    professions: list[str] = field(default_factory=list)


def render_bio(source: str) -> str:
    """Render a bio's Markdown to HTML that keeps only paragraphs, emphasis, lists and links."""
    return nh3.clean(
        _bio_md.render(source),
        tags=_BIO_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel="nofollow ugc noopener noreferrer",
    ).strip()


def slugify(value: str) -> str:
    """Make a URL slug: "Alex Kim, LMT" -> "alex-kim-lmt"."""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_value.lower()).strip("-")[:60].strip("-")


def _unused_slug(display_name: str, city: str, own_id: int | None) -> str:
    base = slugify(f"{display_name} {city}") or "practitioner"
    taken = set(
        db.session.scalars(
            select(DirectoryProfile.slug).where(
                DirectoryProfile.slug.like(f"{base}%"),
                DirectoryProfile.id != (own_id or 0),
            )
        )
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _clean_website(raw: str) -> str:
    url = (raw or "").strip()
    if not url:
        return ""
    if "://" not in url:
        url = "https://" + url
    if len(url) > 300:
        raise DirectoryError("That website address is too long.", 422, "website")
    try:
        # urlsplit raises on an unclosed "[" (an IPv6 host; uncaught, the save answered 500),
        # and .port on a port past 65535 or not a number (a link that leads nowhere).
        parts = urlsplit(url)
        scheme, host, _port = parts.scheme, parts.hostname, parts.port
    except ValueError:
        scheme, host = "", None
    else:
        if "@" in parts.netloc:
            # "https://user@host" or "a:b@host": a password in clear, or a first part that
            # reads as the practice's site while the link opens another host.
            raise DirectoryError(
                "Enter the website without a user name or password, e.g. https://example.com.",
                422,
                "website",
            )
    if scheme not in ("http", "https") or not host or "." not in host or not _is_hostname(host):
        raise DirectoryError(
            "Enter your website's address, e.g. https://example.com.", 422, "website"
        )
    return url


def _is_hostname(host: str) -> bool:
    """Tell whether a URL's host is a name a browser can look up (letters of any script)."""
    # urlsplit takes anything between "//" and "/" as the host: a space, a zero-width space or
    # an empty label ("a..b") made a link that leads nowhere, shown as the practice's website.
    labels = host.removesuffix(".").split(".")
    return all(
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(ch == "-" or ch.isalnum() for ch in label)
        for label in labels
    )


def _clean_keys(keys: list[str], allowed: dict[str, str], what: str) -> list[str]:
    unknown = [k for k in keys if k not in allowed]
    if unknown:
        raise DirectoryError(f"Choose {what} from the list.", 422, what)
    return sorted(set(keys))


def _optional_line(value: str | None, limit: int, field: str, message: str) -> str:
    """Return an optional one-line field on one line; refuse one with no letter or digit."""
    line = " ".join((value or "").split())[:limit]
    # Zero-width characters, accents or dashes alone listed as an empty practice or street line.
    if line and not says_something(line):
        raise DirectoryError(message, 422, field)
    return line


def _clean_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    # Zero-width spaces or dashes alone are not empty, but the directory would list no name.
    if not 2 <= len(name) <= 120 or not has_letter(name):
        raise DirectoryError("Enter the name clients know you by.", 422, "display_name")
    if stacked_marks(name):
        raise DirectoryError(stacked_marks_message("The name"), 422, "display_name")
    return name


def _locate(zip_code: str) -> geo.ZipPlace:
    try:
        return geo.locate(zip_code)
    except geo.LocationError as exc:
        raise DirectoryError(str(exc), 422, "zip_code") from None


def _clean_bio(raw: str) -> str:
    bio = (raw or "").replace("\r\n", "\n").strip()
    if len(bio) > MAX_BIO:
        raise DirectoryError(f"Keep your bio under {MAX_BIO} characters.", 422, "bio")
    return bio


def _clean_phone(raw: str) -> str:
    phone = (raw or "").strip()
    # The shortest number anyone dials has seven digits; the rest may be spacing and signs.
    if phone and not (_PHONE.match(phone) and sum(c.isdigit() for c in phone) >= 7):
        raise DirectoryError(
            "Enter a phone number of at least 7 digits (spaces, dashes and brackets are fine).",
            422,
            "phone",
        )
    return phone


def _clean_specialties(keys: list[str], published: bool) -> list[str]:
    specialties = _clean_keys(keys, taxonomy.specialties(), "specialties")
    if len(specialties) > MAX_SPECIALTIES:
        raise DirectoryError(f"Choose at most {MAX_SPECIALTIES} specialties.", 422, "specialties")
    if published and not specialties:
        # Publishing asks for a specialty; a published profile keeps that rule when edited.
        raise DirectoryError(
            "A published profile needs at least one specialty. Choose one, or unpublish the "
            "profile first.",
            422,
            "specialties",
        )
    return specialties


class _Problems:
    """Run each field's check, keeping every field's error rather than stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def run(self, clean: Callable[..., _T], *args: object) -> _T | None:
        """Return the check's cleaned value, or None after noting its error."""
        try:
            return clean(*args)
        except DirectoryError as exc:
            self.errors.setdefault(exc.field or "", exc.message)
            return None


def check(data: ProfileData, *, published: bool = False) -> tuple[ProfileData, geo.ZipPlace]:
    """Check and normalise a profile's fields; raise one DirectoryError naming every bad one.

    `published`: the profile is listed already, so it must keep a specialty.
    """
    problems = _Problems()
    name = problems.run(_clean_name, data.display_name)
    professions = problems.run(_clean_keys, data.professions, taxonomy.professions(), "professions")
    specialties = problems.run(_clean_specialties, data.specialties, published)
    place = problems.run(_locate, data.zip_code)
    bio = problems.run(_clean_bio, data.bio)
    website = problems.run(_clean_website, data.website)
    phone = problems.run(_clean_phone, data.phone)
    practice_name = problems.run(
        _optional_line,
        data.practice_name,
        160,
        "practice_name",
        "Enter your practice name, or leave it empty.",
    )
    street = problems.run(
        _optional_line, data.street, 200, "street", "Enter your street address, or leave it empty."
    )
    if problems.errors:
        raise DirectoryError.of_fields(problems.errors)
    assert name is not None and place is not None and bio is not None
    assert website is not None and phone is not None
    assert specialties is not None and professions is not None
    assert practice_name is not None and street is not None
    cleaned = ProfileData(
        display_name=name,
        zip_code=place.zip_code,
        practice_name=practice_name,
        street=street,
        show_street=bool(data.show_street and street),
        bio=bio,
        website=website,
        phone=phone,
        accepting_clients=bool(data.accepting_clients),
        contact_enabled=bool(data.contact_enabled),
        specialties=specialties,
        professions=professions,
    )
    return cleaned, place


def profile_of(user_id: int) -> DirectoryProfile | None:
    """The member's own profile, published or not."""
    return db.session.scalar(select(DirectoryProfile).where(DirectoryProfile.user_id == user_id))


def is_published(profile: DirectoryProfile | None) -> bool:
    """Tell whether the member has published this profile (so it must keep a specialty)."""
    return profile is not None and profile.published_at is not None


def listed_profile(slug: str) -> DirectoryProfile | None:
    """The published, not hidden profile at this slug (None for anything else)."""
    if len(slug) > 80:
        return None
    return db.session.scalar(
        select(DirectoryProfile).where(
            DirectoryProfile.slug == slug,
            DirectoryProfile.listed.is_(True),
        )
    )


def save(user: User, data: ProfileData) -> DirectoryProfile:
    """Create or update the member's profile from checked data (its location from the ZIP)."""
    profile = profile_of(user.id)
    cleaned, place = check(data, published=is_published(profile))
    # The slug is worked out before a new profile joins the session (a query would flush it).
    if profile is None or profile.display_name != cleaned.display_name:
        slug = _unused_slug(cleaned.display_name, place.city, profile.id if profile else None)
    else:
        slug = profile.slug
    try:
        # Another member of the same name and city may take the slug between its look-up and
        # this write: the unique slug then refuses the row, and the member is asked to save again
        # (the slug is worked out afresh, and differs).
        with db.session.begin_nested():
            if profile is None:
                profile = DirectoryProfile(user_id=user.id, impressions=0, messages_received=0)
                db.session.add(profile)
            _fill(profile, slug, cleaned, place)
            db.session.flush()
    except IntegrityError as exc:
        if not is_duplicate(exc):
            raise
        raise DirectoryError(
            "Another practitioner of the same name saved a profile here at this very moment. "
            "Please save again.",
            409,
        ) from None
    return profile


def _fill(profile: DirectoryProfile, slug: str, cleaned: ProfileData, place: geo.ZipPlace) -> None:
    """Write checked data into the profile, with what is derived from it."""
    profile.slug = slug
    profile.display_name = cleaned.display_name
    profile.practice_name = cleaned.practice_name
    profile.street = cleaned.street
    profile.show_street = cleaned.show_street
    profile.zip_code = place.zip_code
    profile.city = place.city
    profile.state = place.state if _STATE.match(place.state) else ""
    profile.lat, profile.lon = place.lat, place.lon
    profile.unit_x, profile.unit_y, profile.unit_z = geo.unit_vector(place.lat, place.lon)
    profile.lat_band = geo.lat_band(place.lat)
    profile.bio = cleaned.bio
    profile.bio_html = render_bio(cleaned.bio)
    profile.website = cleaned.website
    profile.phone = cleaned.phone
    profile.accepting_clients = cleaned.accepting_clients
    profile.contact_enabled = cleaned.contact_enabled
    profile.specialties = [ProfileSpecialty(specialty=k) for k in cleaned.specialties]
    profile.professions = [ProfileProfession(profession=k) for k in cleaned.professions]
    profile.specialty_mask = taxonomy.mask(cleaned.specialties, taxonomy.specialty_bit)
    profile.profession_mask = taxonomy.mask(cleaned.professions, taxonomy.profession_bit)
    _relist(profile)


def _relist(profile: DirectoryProfile) -> None:
    # The search reads `listed` from its index; it always equals published, not hidden, and
    # its owner's account not disabled.
    profile.listed = (
        profile.published_at is not None
        and profile.hidden_at is None
        and profile.user.disabled_at is None
    )


def relist_owner(user: User) -> None:
    """List or unlist the member's profile after their account was disabled or enabled."""
    profile = profile_of(user.id)
    if profile is not None:
        _relist(profile)
        db.session.flush()


def publish(profile: DirectoryProfile) -> None:
    """List the profile in the directory (unless a moderator has hidden it)."""
    if profile.hidden_at is not None:
        raise DirectoryError(
            "A moderator has hidden this profile; it cannot be published until they unhide it.",
            409,
        )
    if not profile.specialties:
        raise DirectoryError(
            "Choose at least one specialty before you publish.", 422, field="specialties"
        )
    if not profile.user.is_verified:
        # Clients' messages are relayed to the account's address: one never confirmed may be a
        # typo, or someone else's, and would get strangers' messages (and their health details).
        raise DirectoryError(
            "Confirm your email address before you publish: clients' messages are sent to it. "
            "Use the link we emailed you, or ask for a new one on your account page.",
            409,
        )
    if profile.published_at is None:
        profile.published_at = utcnow()
    _relist(profile)
    db.session.flush()


def unpublish(profile: DirectoryProfile) -> None:
    """Take the profile off the directory at once (the owner keeps it to publish again)."""
    profile.published_at = None
    _relist(profile)
    db.session.flush()


def moderate(profile: DirectoryProfile, reason: str) -> None:
    """Hide a profile from the directory for a moderator's reason."""
    reason = (reason or "").strip()
    # Zero-width characters or a lone accent alone would email the practitioner a blank reason.
    if not says_something(reason):
        raise DirectoryError("Give the practitioner a reason.", 422)
    if profile.hidden_at is not None:
        raise DirectoryError("This profile is already hidden.", 409)
    profile.hidden_at = utcnow()
    profile.hidden_reason = reason[:2000]
    _relist(profile)
    db.session.flush()


def unmoderate(profile: DirectoryProfile) -> None:
    """Lift a moderator's hiding (the owner's own choice to publish stands)."""
    if profile.hidden_at is None:
        raise DirectoryError("This profile is not hidden.", 409)
    profile.hidden_at = None
    profile.hidden_reason = ""
    _relist(profile)
    db.session.flush()


def published_slugs() -> list[tuple[str, datetime]]:
    """Every listed profile's slug and last change, for the sitemap."""
    return slugs_and_changes(DirectoryProfile, DirectoryProfile.listed.is_(True))
