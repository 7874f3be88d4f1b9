"""Users and their single-use tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campus.extensions import Model
from campus.models.base import TimestampMixin

PROFESSIONS = {
    "massage_therapist": "Massage therapist",
    "physical_therapist": "Physical therapist",
    "athletic_trainer": "Athletic trainer",
    "chiropractor": "Chiropractor",
    "other": "Other",
}
ROLES = ("student", "admin")


class User(UserMixin, TimestampMixin, Model):
    """A student or admin; the email is stored lower-cased so uniqueness ignores case."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    full_name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(40), default="other")
    license_number: Mapped[str | None] = mapped_column(String(60))
    license_state: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20), default="student")
    email_verified_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Part of the session identity: bumping it signs out every other session and remember-cookie.
    session_version: Mapped[int] = mapped_column(default=1)

    tokens: Mapped[list[UserToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        """Identify the session by user and session version."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

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
    purpose: Mapped[str] = mapped_column(String(20))  # verify_email | reset_password
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")
