"""Which tracking system a license's jurisdiction reports to, read from systems.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

SYSTEMS_FILE = Path(__file__).resolve().parent / "systems.yaml"


@dataclass(frozen=True)
class Jurisdiction:
    """A state (or other jurisdiction) whose boards take completions through a system."""

    code: str
    name: str
    source: str
    professions: dict[str, str]


@dataclass(frozen=True)
class TrackingSystem:
    """A boards' tracking system (CE Broker) and the jurisdictions that use it."""

    key: str
    name: str
    jurisdictions: dict[str, Jurisdiction]


@cache
def all_systems() -> dict[str, TrackingSystem]:
    """Every tracking system in systems.yaml, by key."""
    raw = yaml.safe_load(SYSTEMS_FILE.read_text(encoding="utf-8")) or {}
    systems = {}
    for key, spec in raw.items():
        jurisdictions = {
            code.upper(): Jurisdiction(
                code=code.upper(),
                name=row["name"],
                source=" ".join(str(row["source"]).split()),
                professions={k: str(v) for k, v in (row.get("professions") or {}).items()},
            )
            for code, row in (spec.get("jurisdictions") or {}).items()
        }
        systems[key] = TrackingSystem(key=key, name=spec["name"], jurisdictions=jurisdictions)
    return systems


def system_name(key: str) -> str:
    """The name people know a tracking system by."""
    system = all_systems().get(key)
    return system.name if system is not None else key


def jurisdiction_code(text: str | None) -> str | None:
    """The code of a jurisdiction written as a code ("FL") or a name ("Florida"), if known."""
    value = (text or "").strip()
    if not value:
        return None
    for system in all_systems().values():
        for code, jurisdiction in system.jurisdictions.items():
            if value.upper() == code or value.casefold() == jurisdiction.name.casefold():
                return code
    return value.upper() if len(value) == 2 and value.isalpha() else None


def systems_for(jurisdiction: str | None) -> list[tuple[TrackingSystem, Jurisdiction]]:
    """The tracking systems a license issued in this jurisdiction is reported to."""
    code = jurisdiction_code(jurisdiction)
    if code is None:
        return []
    return [
        (system, system.jurisdictions[code])
        for system in all_systems().values()
        if code in system.jurisdictions
    ]
