"""Licenses a member holds, the renewal rules boards publish, and the reminders sent about them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from campus import dates
from campus.accounts.models import PROFESSIONS, User
from campus.extensions import Model
from campus.licenses.jurisdictions import jurisdiction_name
from campus.models.base import IDS_KEPT, TimestampMixin, utcnow


class License(TimestampMixin, Model):
    """One credential a member holds: a state license or a national certification."""

    __tablename__ = "licenses"
    __table_args__ = (
        Index("ix_licenses_user_jurisdiction", "user_id", "jurisdiction"),
        # SQLite would otherwise give a removed license's id to the next one, and the audit
        # log's entries about the old license (filed under its id) would read as the new one's.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    profession: Mapped[str] = mapped_column(String(40))  # a key of accounts PROFESSIONS
    # A US state code ("FL") or a national credential code ("NCBTMB"); text a member typed
    # before licenses were structured is kept as it was (see migration 0014_licenses).
    jurisdiction: Mapped[str] = mapped_column(String(60))
    number: Mapped[str] = mapped_column(String(60), default="")
    expires_on: Mapped[date | None]
    # Renewal reminders by email; the member can switch them off per license.
    reminders: Mapped[bool] = mapped_column(default=True)
    # Since when it has been current without a break, as far as the site knows: set when it is
    # entered, and again only when an expiry that had passed is replaced (a renewal). Other
    # edits (a typo in the number, reminders) leave it, so they move no earned date.
    # The database's default is for a release that names no current_since (a rolling deploy).
    current_since: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.current_timestamp()
    )

    user: Mapped[User] = relationship()

    @validates("expires_on")
    def _renewed(self, _key: str, expires_on: date | None) -> date | None:
        # Judged on the day of the change: an expiry already passed then means a break.
        if self.id is not None and self.expired:
            self.current_since = utcnow()
        return expires_on

    @property
    def profession_label(self) -> str:
        return PROFESSIONS.get(self.profession, "Other")

    @property
    def jurisdiction_label(self) -> str:
        return jurisdiction_name(self.jurisdiction)

    @property
    def title(self) -> str:
        """E.g. "Massage therapist, Florida"."""
        return f"{self.profession_label}, {self.jurisdiction_label}"

    @property
    def expired(self) -> bool:
        """Whether its expiry day has passed on the provider's calendar (as the reminders count)."""
        return self.expires_on is not None and self.expires_on < dates.today()

    @property
    def reminders_active(self) -> bool:
        """Whether renewal reminders go out: switched on, dated, and not past its expiry day."""
        return self.reminders and self.expires_on is not None and not self.expired

    def __repr__(self) -> str:
        return f"<License {self.id} {self.jurisdiction} {self.profession}>"


class RenewalRule(TimestampMixin, Model):
    """What one board asks for a renewal: hours per cycle, caps, required subjects, approvals."""

    __tablename__ = "renewal_rules"
    __table_args__ = (
        UniqueConstraint("jurisdiction", "profession"),
        IDS_KEPT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(60))
    profession: Mapped[str] = mapped_column(String(40))
    board: Mapped[str] = mapped_column(String(200), default="")  # the body that renews it
    hours_per_cycle: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    cycle_months: Mapped[int] = mapped_column(default=24)
    # At most this many hours may come from courses delivered in one of `capped_deliveries`
    # (self-paced home study by default; Florida massage also caps live webinars, since it
    # wants classroom hours in person).
    max_home_study_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    capped_deliveries: Mapped[list] = mapped_column(JSON, default=list)
    # {subject key: hours} that must be among the hours, e.g. {"ethics": 2}.
    required_subjects: Mapped[dict] = mapped_column(JSON, default=dict)
    # Boards whose course approval this board accepts (e.g. ["NCBTMB", "FL"]); empty = any.
    accepted_approvals: Mapped[list] = mapped_column(JSON, default=list)
    # True where renewal CE is not required by law (e.g. CAMTC certification in California).
    voluntary: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text)  # the rule's citation: board rule numbers, URL
    source_url: Mapped[str] = mapped_column(String(500), default="")

    @property
    def profession_label(self) -> str:
        return PROFESSIONS.get(self.profession, "Other")

    @property
    def jurisdiction_label(self) -> str:
        return jurisdiction_name(self.jurisdiction)

    def __repr__(self) -> str:
        return f"<RenewalRule {self.jurisdiction} {self.profession}>"


class RenewalReminder(Model):
    """A renewal reminder that went out: once per license, cycle and threshold, whatever runs."""

    __tablename__ = "renewal_reminders"
    __table_args__ = (UniqueConstraint("license_id", "cycle_ends_on", "days_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id", ondelete="CASCADE"))
    cycle_ends_on: Mapped[date]
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
