"""The facts stage: an act's text (and what is known of it) → ``Facts``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from attrap.facts import cameras, dates, operators, places, purposes
from attrap.facts.model import ActContext, Facts
from attrap.facts.text import join_pages, sentences


def extract_facts(text: str | Sequence[str], context: ActContext) -> Facts:
    """Read what the order authorises: when, where, who, how many cameras, what for.

    ``text`` is the act's text, or its pages (whose running headers and footers are then left
    out). Pure and deterministic: the same text and context give the same facts; fields the text
    does not give are left empty.
    """
    read = sentences(text if isinstance(text, str) else join_pages(text))
    evidence: dict[str, str] = {}
    found_communes, commune_evidence = places.communes(read, context.departments)
    if commune_evidence:
        evidence["communes"] = commune_evidence
    perimeter = places.perimeter(read)
    who = operators.operator(read)
    if who:
        evidence["operator"] = who[1]
    most_cameras = cameras.maximum(read, "cameras")
    if most_cameras:
        evidence["max_cameras"] = most_cameras[1]
    most_aircraft = cameras.maximum(read, "aircraft")
    if most_aircraft:
        evidence["max_aircraft"] = most_aircraft[1]
    codes, purpose_evidence = purposes.purposes(read)
    if purpose_evidence:
        evidence["purposes"] = purpose_evidence
    occasion = purposes.event(read)
    if occasion:
        evidence["event"] = occasion[1]
    return Facts(
        periods=tuple(dates.periods(read, context)),
        communes=tuple(found_communes),
        perimeter=perimeter,
        operator=who[0] if who else None,
        max_cameras=most_cameras[0] if most_cameras else None,
        max_aircraft=most_aircraft[0] if most_aircraft else None,
        purposes=codes,
        event=occasion[0] if occasion else None,
        evidence=evidence,
    )


def act_context(
    *,
    administration_code: str,
    department: str | None,
    kind: str,
    timezone: str,
    signed_on: dt.date | None = None,
    published_on: dt.date | None = None,
) -> ActContext:
    """The context of an act published by an administration (its territory and time zone)."""
    return ActContext(
        timezone=timezone,
        departments=places.territory(administration_code, department, kind),
        signed_on=signed_on,
        published_on=published_on,
    )
