"""The adapter interface every tracking system implements, and the completion it is given."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class Completion:
    """One certificate as a tracking system needs it: who, which license, which course, when."""

    certificate_code: str
    first_name: str
    last_name: str
    license_number: str
    profession_code: str
    jurisdiction: str
    course_title: str
    # The system's own number for the course (CE Broker: "20-" tracking number), if we have one.
    course_number: str | None
    completed_on: date
    ce_hours: Decimal

    @classmethod
    def from_record(cls, record: dict[str, str | None]) -> Completion:
        """The completion a report kept with `as_record`."""
        values: dict[str, Any] = dict(record)
        values["completed_on"] = date.fromisoformat(str(values["completed_on"]))
        values["ce_hours"] = Decimal(str(values["ce_hours"]))
        return cls(**values)

    def as_record(self) -> dict[str, str | None]:
        """The completion as plain text values, to keep with the report."""
        return {
            key: value if value is None or isinstance(value, str) else str(value)
            for key, value in vars(self).items()
        }


@dataclass(frozen=True)
class Accepted:
    """The system took the completion; `reference` is its receipt identifier, if it gave one."""

    reference: str = ""
    # Set when the system answered that it already held this completion (an earlier send whose
    # answer was lost reached it): what it said, kept for the admin.
    already_held: str = ""


@dataclass(frozen=True)
class Rejected:
    """The system refused the completion for a reason a person has to act on."""

    reason: str
    # The provider's to act on (its credentials, the course's approval), not the member's.
    provider_fault: bool = False


@dataclass(frozen=True)
class TransientFailure:
    """The system could not be reached or answered badly: trying again later may work."""

    error: str


@dataclass(frozen=True)
class Unanswered:
    """The request went out but no answer came back: the system may have recorded it, or not.

    Not to be posted again at once: only once the send is stale, when a "duplicate" answer
    counts as accepted.
    """

    error: str


Outcome = Accepted | Rejected | TransientFailure | Unanswered


@dataclass(frozen=True)
class RosterFile:
    """A file in the format the system accepts for upload."""

    filename: str
    mimetype: str
    content: bytes
    # Completions the file could not carry (no course number, no license), with the reason.
    left_out: list[tuple[str, str]]


class Adapter(Protocol):
    """A tracking system: submit one completion, or build a roster file for many."""

    key: str
    name: str

    def configured(self) -> bool:
        """Tell whether the credentials to submit are set."""
        ...

    def submit(self, completion: Completion) -> Outcome:
        """Report one completion and say what the system answered."""
        ...

    def roster(self, completions: list[Completion], *, title: str) -> RosterFile:
        """Build the upload file for these completions."""
        ...


def adapter_for(system: str, config: dict) -> Adapter:
    """The adapter of a tracking system, set up from the app's settings."""
    if system == "cebroker":
        from campus.reporting.cebroker import CEBrokerAdapter

        return CEBrokerAdapter.from_config(config)
    raise LookupError(f"no adapter for tracking system {system!r}")
