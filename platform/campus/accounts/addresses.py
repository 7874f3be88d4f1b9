"""One stored form of each email address, so one mailbox has one account however it is typed.

An address reaches the same mailbox in capitals or not, with an accent composed (NFC) or as a
letter and a combining mark (NFD), and with an internationalised domain in its own letters or
in its xn-- (punycode) form. email-validator reads all of those; the stored form is its
reading lower-cased, the part before the @ in NFC and the domain in its ASCII form (which any
mail server accepts, where a domain in other letters needs one that speaks SMTPUTF8).

Accounts made before kept the address as it was typed, lower-cased. Rather than rewrite those
rows (two of them may be one mailbox already), a lookup tries each form such a row can hold.
"""

from __future__ import annotations

import contextlib
import unicodedata

from email_validator import EmailNotValidError, ValidatedEmail, validate_email


def _checked(email: str) -> ValidatedEmail | None:
    """Return email-validator's reading of the address, or None when it is not one."""
    try:
        return validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return None


def _typed(email: str) -> str:
    """The address as accounts made before were stored: trimmed and lower-cased."""
    return (email or "").strip().lower()


def normalize_email(email: str) -> str:
    """Return the one form an address is stored and looked up in."""
    typed = _typed(email)
    checked = _checked(typed)
    if checked is None:
        # Not an address (the forms refuse it): kept as typed, in one form all the same.
        return unicodedata.normalize("NFC", typed)
    local = unicodedata.normalize("NFC", checked.local_part.lower())
    return f"{local}@{checked.ascii_domain.lower()}"


def email_forms(email: str) -> list[str]:
    """Every form an account of this address may be stored in, the stored form first."""
    found = [normalize_email(email), _typed(email)]
    checked = _checked(found[0])
    if checked is not None:
        local, domain = checked.local_part.lower(), checked.domain.lower()
        for form in ("NFC", "NFD"):
            for part in (domain, checked.ascii_domain.lower()):
                found.append(unicodedata.normalize(form, f"{local}@{part}"))
    return list(dict.fromkeys(found))


def search_forms(term: str) -> list[str]:
    """The forms a stored address holding this piece of text may have it in (for a search)."""
    found = [unicodedata.normalize(form, term.lower()) for form in ("NFC", "NFD")]
    if "@" in term and _checked(term.strip()) is not None:
        found.extend(email_forms(term))
    local, at, domain = found[0].rpartition("@")
    if not domain.isascii():
        # A piece of a domain in its own letters, stored as xn--; a name fails, and is a name.
        with contextlib.suppress(UnicodeError):
            found.append(local + at + domain.encode("idna").decode())
    return list(dict.fromkeys(found))
