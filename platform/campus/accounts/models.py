"""Users, their single-use tokens, server-side sessions and second-factor records."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.accounts.sealing import SealedString
from campus.extensions import Model
from campus.models.base import TimestampMixin

PROFESSIONS = {
    "massage_therapist": "Massage therapist",
    "physical_therapist": "Physical therapist",
    "athletic_trainer": "Athletic trainer",
    "chiropractor": "Chiropractor",
    "other": "Other",
}
# An assessor reviews program practicals in the admin and sees nothing else there.
ROLES = ("student", "admin", "assessor")


class User(UserMixin, TimestampMixin, Model):
    """A student or admin; the email is stored lower-cased so uniqueness ignores case."""

    __tablename__ = "users"
    # SQLite would otherwise give a deleted account's id to the next one, and the audit log's
    # entries about the old account (filed under its id) would read as the new one's.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(40), default="other")
    role: Mapped[str] = mapped_column(String(20), default="student")
    email_verified_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    # The member deleted the account: no sign-in, no personal data; the row only anchors the CE
    # records kept for the boards (campus.records) until they are purged.
    deleted_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # TOTP second factor: the confirmed secret, one waiting for its first code (both sealed at
    # rest, accounts/sealing.py), and the last time step a code was accepted for (a code is
    # never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(SealedString(255))
    totp_pending_secret: Mapped[str | None] = mapped_column(SealedString(255))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    tokens: Mapped[list[UserToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Plain attributes, never stored: the raw token of the session this object was loaded for.
    __allow_unmapped__ = True
    session_token: str | None = None

    def get_id(self) -> str:
        """Return the random token of this device's session (what the cookies carry)."""
        if not self.session_token:
            raise RuntimeError("no session is open for this user; use accounts.sessions")
        return self.session_token

    # Flask-Login compares users by get_id(); a user has many sessions, so compare accounts.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, User):
            return self.id is not None and self.id == other.id
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None and self.deleted_at is None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_assessor(self) -> bool:
        return self.role == "assessor"

    @property
    def is_staff(self) -> bool:
        """Admins and assessors: both see members' personal data, so both need TOTP."""
        return self.role in ("admin", "assessor")

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def profession_label(self) -> str:
        return PROFESSIONS.get(self.profession, "Other")

    @property
    def first_name(self) -> str:
        return self.full_name.split()[0] if self.full_name.strip() else self.email

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserToken(TimestampMixin, Model):
    """A single-use, expiring token (email verification, password reset); only its hash is kept."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # verify_email | reset_password | change_email
    purpose: Mapped[str] = mapped_column(String(20))
    # For change_email: the address the link confirms (it becomes the email only when followed).
    new_email: Mapped[str | None] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class UserSession(Model):
    """One signed-in device: the cookies carry a random token, only its hash is kept here."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_active", "user_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    # Written at most once a minute, so a busy reader does not write on every page.
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # the absolute limit, however active the session is
    remembered: Mapped[bool] = mapped_column(default=False)
    second_factor_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """A single-use second-factor recovery code; only its hash is kept."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginChallenge(Model):
    """A sign-in waiting for its second factor: the password was right, no session exists yet."""

    __tablename__ = "user_login_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=0)
    spent_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
