"""Directory profiles, what they list, and the messages clients send through the relay."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.accounts.models import User
from campus.directory import geo
from campus.extensions import Model
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow


class DirectoryProfile(TimestampMixin, Model):
    """A member's public practitioner profile: nothing shows until it is published."""

    __tablename__ = "directory_profiles"
    # The radius search reads only this index: listed profiles, one seek per latitude band of
    # the box for its stretch of longitude, then the latitude, the filters' masks, the unit
    # vector of the exact distance and the ids (a covering index: no table row is read to find,
    # count and order the profiles).
    __table_args__ = (
        Index(
            "ix_directory_profiles_search",
            "listed",
            "lat_band",
            "lon",
            "lat",
            "specialty_mask",
            "profession_mask",
            "unit_x",
            "unit_y",
            "unit_z",
            "id",
        ),
        # SQLite would otherwise give a deleted profile's id to the next one, and what a web
        # process still holds for the old id (impressions.py) would be credited to it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    practice_name: Mapped[str] = mapped_column(String(160), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2), default="")
    zip_code: Mapped[str] = mapped_column(String(5))
    # Whether the street is shown, or only the city, state and ZIP.
    show_street: Mapped[bool] = mapped_column(Boolean, default=False)
    # From the offline ZIP data at save time (the ZIP's centre, never a geocoded street).
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    # The same point on the unit sphere (geo.unit_vector), kept with it: the search measures
    # and orders by the dot product, which needs no trigonometry in the database.
    unit_x: Mapped[float] = mapped_column(Float)
    unit_y: Mapped[float] = mapped_column(Float)
    unit_z: Mapped[float] = mapped_column(Float)
    # geo.lat_band(lat): the search seeks by band, so it reads no profile outside its box's
    # longitudes (an index led by latitude alone reads the whole continent's strip).
    lat_band: Mapped[int] = mapped_column(Integer)
    bio: Mapped[str] = mapped_column(Text, default="")
    bio_html: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    photo_key: Mapped[str | None] = mapped_column(String(200), index=True)
    accepting_clients: Mapped[bool] = mapped_column(Boolean, default=True)
    contact_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    published_at: Mapped[datetime | None] = mapped_column()
    # Set by a moderator: the profile is off the directory whatever its owner does.
    hidden_at: Mapped[datetime | None] = mapped_column()
    hidden_reason: Mapped[str] = mapped_column(Text, default="")
    # Counters the practitioner sees: searches whose results page showed them, messages sent.
    # Derived at every change (services keep them): published and not hidden; the specialties
    # and professions as bit masks (taxonomy's order) for the search's index.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    specialty_mask: Mapped[int] = mapped_column(BigInteger, default=0)
    profession_mask: Mapped[int] = mapped_column(Integer, default=0)
    impressions: Mapped[int] = mapped_column(Integer, default=0)
    messages_received: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship()
    specialties: Mapped[list[ProfileSpecialty]] = relationship(
        cascade="all, delete-orphan", order_by="ProfileSpecialty.specialty"
    )
    professions: Mapped[list[ProfileProfession]] = relationship(
        cascade="all, delete-orphan", order_by="ProfileProfession.profession"
    )

    @property
    def is_listed(self) -> bool:
        """Whether anyone but its owner and the admins can see the profile."""
        return bool(self.listed)

    @property
    def shown_website(self) -> str:
        """The website to link to: none when it carries a user name or password."""
        # Saved before such addresses were refused: the part before "@" may read as another
        # host's name, or hold a password in clear.
        authority = re.split(r"[/?#]", self.website.partition("://")[2], maxsplit=1)[0]
        return "" if "@" in authority else self.website

    @property
    def on_map(self) -> bool:
        """Tell whether the profile has a real location (searches find no profile without)."""
        return geo.on_map(self.lat, self.lon)

    @property
    def specialty_keys(self) -> list[str]:
        return [s.specialty for s in self.specialties]

    @property
    def profession_keys(self) -> list[str]:
        return [p.profession for p in self.professions]

    def __repr__(self) -> str:
        return f"<DirectoryProfile {self.slug}>"


class ProfileSpecialty(Model):
    """One specialty a profile lists (a key of the fixed specialty list)."""

    __tablename__ = "directory_profile_specialties"
    __table_args__ = (
        Index("ix_directory_profile_specialties_specialty", "specialty", "profile_id"),
    )

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("directory_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    specialty: Mapped[str] = mapped_column(String(60), primary_key=True)


class ProfileProfession(Model):
    """One profession a profile lists (a key of the accounts' professions)."""

    __tablename__ = "directory_profile_professions"
    __table_args__ = (
        Index("ix_directory_profile_professions_profession", "profession", "profile_id"),
    )

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("directory_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    profession: Mapped[str] = mapped_column(String(40), primary_key=True)


class ContactMessage(Model):
    """A client's message to a practitioner, stored, then relayed by the worker."""

    __tablename__ = "directory_messages"
    __table_args__ = IDS_KEPT

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("directory_profiles.id", ondelete="CASCADE"), index=True
    )
    sender_name: Mapped[str] = mapped_column(String(120))
    sender_email: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    relayed_at: Mapped[datetime | None] = mapped_column()
    # Relays begun and never finished (their worker died): each is counted before it starts
    # and taken back when it fails, so only those cut off stay counted (contact.start_relay).
    cut_off_tries: Mapped[int] = mapped_column(default=0)

    profile: Mapped[DirectoryProfile] = relationship()
