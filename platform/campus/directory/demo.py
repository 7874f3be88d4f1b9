"""Demo content: a few published practitioners, kept as a YAML file, so the directory has people."""

from __future__ import annotations

from pathlib import Path

from campus.directory.importer import import_profiles

PROFILES = Path(__file__).with_name("demo_profiles.yaml")


def seed() -> list[str]:
    """Import the demo profiles that are missing (profiles already there are left as they are)."""
    report = import_profiles(PROFILES, actor=None, create_members=True, only_new=True)
    if report.failed:
        raise RuntimeError(f"demo profiles failed to import: {report.failed}")
    return [f"created directory profile for {email}" for email in report.created]
