"""schema.org data for a profile page, for search engines (a JSON-LD data block, not a script)."""

from __future__ import annotations

from typing import Any

from campus.directory import photos, taxonomy
from campus.directory.credentials import LiveBadges
from campus.directory.models import DirectoryProfile
from campus.urls import public_url


def profile_jsonld(profile: DirectoryProfile, badges: LiveBadges) -> dict[str, Any]:
    """Describe a practitioner as a schema.org Person working at their practice."""
    address: dict[str, Any] = {
        "@type": "PostalAddress",
        "addressLocality": profile.city,
        "addressRegion": profile.state,
        "postalCode": profile.zip_code,
        "addressCountry": "US",
    }
    if profile.show_street and profile.street:
        address["streetAddress"] = profile.street
    person: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Person",
        "name": profile.display_name,
        "url": public_url("directory.profile", slug=profile.slug),
        "jobTitle": [taxonomy.profession_label(k) for k in profile.profession_keys],
        "knowsAbout": [taxonomy.specialty_label(k) for k in profile.specialty_keys],
        "address": address,
    }
    if profile.practice_name:
        person["worksFor"] = {
            "@type": "LocalBusiness",
            "name": profile.practice_name,
            "address": address,
        }
    if profile.shown_website:
        person["sameAs"] = [profile.shown_website]
    if profile.phone:
        person["telephone"] = profile.phone
    name = photos.file_name(profile.photo_key)
    if name:
        person["image"] = public_url("directory.photo", name=name)
    if badges.credentials:
        person["hasCredential"] = [
            {
                "@type": "EducationalOccupationalCredential",
                "name": badge.program_title,
                "credentialCategory": "certificate",
                "url": badge.verify_url,
                **({"expires": badge.valid_until.isoformat()} if badge.valid_until else {}),
            }
            for badge in badges.credentials
        ]
    return person
