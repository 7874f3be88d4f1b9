"""The medical disclaimer shown on every article; bump VERSION whenever the wording changes."""

VERSION = "2026-11-01"
TEXT = (
    "Campus articles are continuing education for licensed hands-on professionals. They describe "
    "common patterns, not a diagnosis for any one person. Referred pain can come from conditions "
    "that need medical care: screen for red flags (unexplained weight loss, fever, night pain, "
    "numbness or weakness, loss of bladder or bowel control, recent trauma) and refer when in "
    "doubt. Self-help advice is for people already assessed by a clinician, and it does not "
    "replace that assessment."
)


def as_dict() -> dict[str, str]:
    """The disclaimer for the API."""
    return {"version": VERSION, "text": TEXT}
