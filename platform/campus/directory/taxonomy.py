"""The fixed lists a profile chooses from: specialties (a data file) and professions."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from campus.accounts.models import PROFESSIONS

_SPECIALTIES_FILE = Path(__file__).with_name("specialties.yaml")


@functools.cache
def specialties() -> dict[str, str]:
    """Every specialty a profile may list, key to label, in the file's order."""
    data = yaml.safe_load(_SPECIALTIES_FILE.read_text(encoding="utf-8"))
    return {str(key): str(label) for key, label in data.items()}


def professions() -> dict[str, str]:
    """Every profession a profile may list, key to label (the accounts' list, less "other")."""
    return {key: label for key, label in PROFESSIONS.items() if key != "other"}


def specialty_label(key: str) -> str:
    """The label of a specialty key (the key itself if the list no longer has it)."""
    return specialties().get(key, key)


def profession_label(key: str) -> str:
    """The label of a profession key."""
    return PROFESSIONS.get(key, key)


def specialty_bit(key: str) -> int:
    """The bit a specialty sets in a profile's search mask (its place in the list)."""
    return 1 << list(specialties()).index(key)


def profession_bit(key: str) -> int:
    """The bit a profession sets in a profile's search mask."""
    return 1 << list(PROFESSIONS).index(key)


def mask(keys: list[str], bit) -> int:
    """The search mask of a list of keys."""
    value = 0
    for key in keys:
        value |= bit(key)
    return value


def specialty_keys(mask_value: int) -> list[str]:
    """The specialty keys a search mask holds, in the list's order."""
    return [key for place, key in enumerate(specialties()) if mask_value >> place & 1]


@functools.lru_cache(maxsize=4096)
def specialty_names(mask_value: int) -> tuple[str, ...]:
    """The labels of the specialties a search mask holds, in the list's order."""
    # Cached per mask: a results page shows the same few combinations over and over.
    labels = specialties()
    return tuple(labels[key] for key in specialty_keys(mask_value))


def profession_keys(mask_value: int) -> list[str]:
    """The profession keys a search mask holds, in the list's order."""
    return [key for place, key in enumerate(PROFESSIONS) if mask_value >> place & 1]
