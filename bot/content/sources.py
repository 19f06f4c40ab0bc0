"""Readable names and links for the source ids beside every answer (sources.yml)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

SOURCES_FILE = Path(__file__).with_name("sources.yml")


@lru_cache(maxsize=1)
def _sources() -> dict[str, dict]:
    return yaml.safe_load(SOURCES_FILE.read_text(encoding="utf-8"))


def source_links(ids: Iterable[str]) -> list[dict]:
    """[{"id", "name", "url"}] for display; an id missing from the file shows as itself."""
    known = _sources()
    return [{"id": i, "name": known.get(i, {}).get("name", i), "url": known.get(i, {}).get("url")} for i in ids]
