"""What a member does with their records: ask for an archive, download it, delete the account."""

from __future__ import annotations

import hmac

from campus import audit
from campus.accounts import mfa
from campus.accounts.models import User
from campus.accounts.services import verify_password
from campus.audit import record
from campus.billing.closing import ClosingInterrupted
from campus.billing.stripe_api import PaymentProviderError
from campus.records import retention, services
from campus.records.models import DataExport
from campus.records.services import RecordsError

CONFIRMATION_WORD = "DELETE"


def request_export(user: User) -> DataExport:
    """Ask for a new data archive (refused while one is pending or too soon after the last)."""
    export = services.request_export(user)
    record(
        "data_export_requested",
        export,
        summary=f"member #{user.id} asked for a data archive (#{export.id})",
        actor=user,
    )
    return export


def download_export(user: User, export_id: int) -> DataExport:
    """Hand a member their own archive while its link works; the download is logged."""
    export = services.downloadable(user, export_id)
    record(
        "data_export_downloaded",
        export,
        summary=f"member #{user.id} downloaded data archive #{export.id}",
        actor=user,
    )
    return export


def delete_account(
    user: User, *, password: str, code: str | None, confirmation: str
) -> retention.Deletion:
    """Delete the member's account after the password, second factor and typed confirmation.

    Raises RecordsError (nothing changed) for a wrong answer or when Stripe cannot be reached.
    """
    if user.is_staff:
        # An assessor's pass or return is a record a candidate's credential rests on, as an
        # admin's changes are the log's: deleted, they would name no one.
        # Who can take the role away: an admin on the member's page, or for an admin only
        # the site's operator (flask set-role), as only the operator makes admins.
        if user.is_admin:
            message = (
                "An admin account cannot be deleted from here: ask the site's operator to take "
                "the admin role away first."
            )
        else:
            message = (
                "An assessor account cannot be deleted from here: ask an admin to remove the "
                "assessor role first (on your page under Members in the admin)."
            )
        raise RecordsError(message, status=403)
    # As bytes: compare_digest raises on a str with non-ASCII characters.
    typed = (confirmation or "").strip().upper().encode()
    if not hmac.compare_digest(typed, CONFIRMATION_WORD.encode()):
        raise RecordsError(
            f"Type {CONFIRMATION_WORD} to confirm.", status=422, field="confirmation"
        )
    if not verify_password(user, password or ""):
        raise RecordsError("Your password is not correct.", status=422, field="password")
    if user.totp_enabled and mfa.check_code(user, code or "") is None:
        raise RecordsError("That code is not right.", status=422, field="code")
    try:
        done = retention.delete_account(user)
    except ClosingInterrupted as exc:
        raise RecordsError(
            "Your membership is cancelled, but our payment processor stopped answering before "
            "we could finish closing your billing account, so nothing was deleted. Please try "
            "again in a few minutes.",
            status=503,
        ) from exc
    except PaymentProviderError as exc:
        raise RecordsError(
            "We could not reach our payment processor to cancel your membership, so nothing "
            "was deleted. Please try again in a few minutes.",
            status=503,
        ) from exc
    # Logged as the member while the row exists; finish_deletion then replaces their address.
    record(
        "account_deleted",
        object_type="User",
        object_id=done.user_id,
        summary=done.summary,
        actor=user,
    )
    retention.finish_deletion(done)
    return done


def record_refusal(user: User, error: RecordsError) -> None:
    """Log a deletion refused for a wrong password or code (the caller rolled the rest back).

    As a failed sign-in is: someone at the member's unlocked screen trying to delete the
    account leaves a trace. A mistyped confirmation word is no wrong secret and is not logged.
    """
    if error.field in ("password", "code"):
        audit.record_refusal("account_delete_refused", user, error.field)
