"""CE Broker: report completions through its web service, or build the roster file to upload.

What this follows (CE Broker's provider documentation, help.cebroker.com):

- "Reporting and License Validation via Web Services (system-to-system)"
  (https://help.cebroker.com/hc/en-us/articles/15226514540436): completions are XML messages
  sent to a .NET web service by "HTTP form posts with text variables"; one message at most
  16 MB; the provider is identified by its parent provider id and upload key.
- "XML License Validation Examples" (https://help.cebroker.com/hc/en-us/articles/15226531517716):
  the message shape `<licensees id_parent_provider=".." upload_key="..">` with
  `licensee_profession`, `cebroker_state` and `license` elements, and the answer wrapped in
  `<string xmlns="https://webservices.cebroker.com/">` whose records carry `ErrorCode` and
  `Message` attributes (empty when all is well).
- "Web Service Roster posting update Role 1 to Role 2"
  (https://help.cebroker.com/hc/en-us/articles/15226511846292): since September 2021 the
  attendee's license goes in the `license` element as the full number shown by the state's
  license verification (not the bare digits).
- "XML Return Receipts" (https://help.cebroker.com/hc/en-us/articles/15226514472980): every
  upload gets a receipt that mirrors the message; a node's `Message` attribute holds the error,
  or is empty and the node's id attributes are filled.
- "XML Parent and Child Providers" (https://help.cebroker.com/hc/en-us/articles/15226514516244)
  and the XML field sheets: provider ids are the "50-" tracking number and courses the "20-"
  tracking number, both sent as the digits after the hyphen; dates as MM/DD/YYYY.

Assumed, because the roster field sheet itself (a spreadsheet linked from the first page) was
not available to us: the roster message is `<rosters id_parent_provider upload_key>` holding
one `<roster>` per course (`id_provider`, `id_course`, `<attendees>`), each `<attendee>` with
`licensee_profession`, `license`, `cebroker_state`, `first_name`, `last_name`, `course_date`
and `partial_credit` (N: we only award full credit); it is posted as the form field `InXML` to
the `UploadXMLString` operation. The endpoint is a setting (CEBROKER_ENDPOINT), so an
operator can point it at CE Broker's test service first.
"""

from __future__ import annotations

import http.client
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from campus.reporting.adapters import (
    Accepted,
    Completion,
    Outcome,
    Rejected,
    RosterFile,
    TransientFailure,
    Unanswered,
)
from campus.xmltext import xml_text

DEFAULT_ENDPOINT = "https://webservices.cebroker.com/CEBrokerWebService.asmx/UploadXMLString"
_SERVICE_NS = "https://webservices.cebroker.com/"
# Answers worth another try later: the service is down, overloaded or throttling us.
_TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503}
NO_TRACKING_NUMBER = (
    "The course has no CE Broker course tracking number (20-...) among its approvals in force "
    "on the completion date; add its CE Broker approval to the course."
)
# A gateway that gave up waiting for the service: the service may still have stored the roster.
_UNANSWERED_STATUSES = {504}
# How CE Broker says it holds the completion already. Assumed wording: its receipts carry the
# error in a node's Message attribute, and we could not confirm the exact text of this one. Kept
# narrow on purpose: an error misread as "held already" would mark a refused completion
# accepted, while one missed only leaves a rejection for an admin to look at.
_DUPLICATE = re.compile(
    r"\bduplicate\b|\balready\b.{0,40}\b(?:reported|recorded|posted)\b", re.IGNORECASE
)


def tracking_digits(number: str | None, prefix: str) -> str | None:
    """The digits of a CE Broker tracking number ("50-1234" or "1234" -> "1234"), else None."""
    value = (number or "").strip()
    match = re.fullmatch(rf"(?:{prefix}-)?([0-9]{{1,9}})", value)
    return match.group(1) if match else None


@dataclass(frozen=True)
class CEBrokerAdapter:
    """CE Broker's web service and roster XML, with the provider's id and upload key."""

    provider_id: str
    upload_key: str
    endpoint: str
    timeout: float

    key = "cebroker"
    name = "CE Broker"

    @classmethod
    def from_config(cls, config: dict) -> CEBrokerAdapter:
        """Read CEBROKER_* from the app's settings."""
        return cls(
            provider_id=(config.get("CEBROKER_PROVIDER_ID") or "").strip(),
            upload_key=(config.get("CEBROKER_UPLOAD_KEY") or "").strip(),
            endpoint=(config.get("CEBROKER_ENDPOINT") or DEFAULT_ENDPOINT).strip(),
            timeout=float(config.get("CEBROKER_TIMEOUT") or 20),
        )

    def configured(self) -> bool:
        """Tell whether a provider id and an upload key are set."""
        return bool(tracking_digits(self.provider_id, "50") and self.upload_key)

    # --- the message -------------------------------------------------------------------------

    def message(self, completions: list[Completion], *, with_key: bool = True) -> bytes:
        """Build the `<rosters>` XML for these completions (one roster per course)."""
        root = ET.Element("rosters")
        root.set("id_parent_provider", tracking_digits(self.provider_id, "50") or "")
        # A downloaded file is not a place for the credential: the upload adds it.
        root.set("upload_key", self.upload_key if with_key else "")
        by_course: dict[str, list[Completion]] = defaultdict(list)
        for completion in completions:
            course = tracking_digits(completion.course_number, "20")
            if course is not None:
                by_course[course].append(completion)
        for course, attendees in by_course.items():
            roster = ET.SubElement(root, "roster")
            ET.SubElement(roster, "id_provider").text = root.get("id_parent_provider")
            ET.SubElement(roster, "id_course").text = course
            listed = ET.SubElement(roster, "attendees")
            for completion in attendees:
                attendee = ET.SubElement(listed, "attendee")
                for tag, value in (
                    ("licensee_profession", completion.profession_code),
                    ("license", completion.license_number),
                    ("cebroker_state", completion.jurisdiction),
                    ("first_name", completion.first_name),
                    ("last_name", completion.last_name),
                    ("course_date", completion.completed_on.strftime("%m/%d/%Y")),
                    ("partial_credit", "N"),
                ):
                    # A name or number typed with U+FFFF would make the whole roster, every
                    # attendee's record in it, a document CE Broker cannot read.
                    ET.SubElement(attendee, tag).text = xml_text(value)
        ET.indent(root)
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    @staticmethod
    def problem(completion: Completion) -> str | None:
        """Why CE Broker cannot take this completion as it is, or None."""
        if tracking_digits(completion.course_number, "20") is None:
            return NO_TRACKING_NUMBER
        if not completion.license_number.strip():
            return "The certificate names no license number."
        if not completion.profession_code:
            return "CE Broker takes no completions for this profession in this state."
        return None

    # --- submitting --------------------------------------------------------------------------

    def submit(self, completion: Completion) -> Outcome:
        """Post one completion to the web service and read its receipt."""
        problem = self.problem(completion)
        if problem is not None:
            # The course's approval is the provider's to add; a license or profession is the
            # member's record, which the member reads about.
            return Rejected(problem, provider_fault=problem == NO_TRACKING_NUMBER)
        body = urllib.parse.urlencode({"InXML": self.message([completion]).decode()}).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read(2_000_000).decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code in _UNANSWERED_STATUSES:
                return Unanswered(f"CE Broker's gateway timed out (HTTP {exc.code})")
            if exc.code in _TRANSIENT_STATUSES:
                return TransientFailure(f"CE Broker answered HTTP {exc.code}")
            # Refused before any roster was read: the provider's endpoint, key or request.
            return Rejected(
                f"CE Broker refused the request (HTTP {exc.code}).", provider_fault=True
            )
        except urllib.error.URLError as exc:
            # urllib wraps what fails while connecting or sending (refused, DNS, connect
            # timeout): the roster did not reach CE Broker, so sending it again is safe.
            return TransientFailure(f"CE Broker could not be reached: {exc.reason}")
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            # Raised while waiting for or reading the answer: the roster was sent, and CE
            # Broker may have stored it.
            return Unanswered(
                f"No answer from CE Broker after the roster was sent "
                f"({type(exc).__name__}: {exc or 'connection closed'})"
            )
        return read_receipt(text)

    # --- the roster file ---------------------------------------------------------------------

    def roster(self, completions: list[Completion], *, title: str) -> RosterFile:
        """Build the roster XML to upload by hand (no upload key in it)."""
        left_out = [(c.certificate_code, p) for c in completions if (p := self.problem(c))]
        skipped = {code for code, _reason in left_out}
        content = self.message(
            [c for c in completions if c.certificate_code not in skipped], with_key=False
        )
        return RosterFile(
            filename=f"{title}.xml", mimetype="application/xml", content=content, left_out=left_out
        )


def is_duplicate_answer(message: str) -> bool:
    """Tell whether a receipt's error message says CE Broker already holds this completion.

    Recognises "duplicate" or "already ... reported / recorded / posted" in the node's Message
    attribute, whatever the case.
    """
    return bool(_DUPLICATE.search(message))


def read_receipt(text: str) -> Outcome:
    """Turn CE Broker's return receipt into accepted, rejected (with its message) or transient.

    A receipt whose only errors say the completion is already recorded counts as accepted: an
    earlier send whose answer was lost reached CE Broker.
    """
    try:
        outer = ET.fromstring(text)
    except ET.ParseError:
        return TransientFailure("CE Broker's answer was not XML")
    # The .NET service wraps the receipt, as escaped text, in <string xmlns=...>.
    if outer.tag in (f"{{{_SERVICE_NS}}}string", "string"):
        try:
            receipt = ET.fromstring((outer.text or "").strip())
        except ET.ParseError:
            return TransientFailure("CE Broker's receipt was not XML")
    else:
        receipt = outer
    errors, duplicates, upload_errors = [], [], 0
    for node in receipt.iter():
        message = (node.get("Message") or "").strip()
        code = (node.get("ErrorCode") or "").strip()
        if message or code:
            error = f"{message or 'error'}" + (f" (code {code})" if code else "")
            errors.append(error)
            if is_duplicate_answer(message):
                duplicates.append(error)
            elif node.tag.lower() != "attendee":
                upload_errors += 1
    if errors and len(duplicates) == len(errors):
        return Accepted("", already_held="; ".join(dict.fromkeys(duplicates)))
    if errors:
        # An error on the upload or its roster (the provider's key, id or course) means the
        # attendee's record was never looked at: the provider's to fix, not the member's.
        return Rejected("; ".join(dict.fromkeys(errors)), provider_fault=upload_errors > 0)
    attendee = receipt.find(".//attendee")
    if attendee is None:
        return TransientFailure("CE Broker's receipt named no attendee")
    ids = [
        v.strip() for k, v in attendee.attrib.items() if k.lower().startswith("id_") and v.strip()
    ]
    return Accepted(ids[0] if ids else "")
