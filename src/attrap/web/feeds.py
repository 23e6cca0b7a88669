"""Atom feeds of hits: one per combination of filters (département, category, …)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]

from attrap.facts.wording import facts_line
from attrap.store.queries import HitFilter
from attrap.web.france_map import department_names
from attrap.web.text import category_label, french_date

# Tag URIs (RFC 4151) stay the same whatever host or port serves the feed.
ENTRY_ID = "tag:attrap,2024:hit:{}"


def filter_params(hit_filter: HitFilter) -> dict[str, str]:
    """The filter as query parameters, empty ones left out, in a fixed order."""
    values = {
        "department": hit_filter.department,
        "category": hit_filter.category,
        "since": hit_filter.since.isoformat() if hit_filter.since else None,
        "until": hit_filter.until.isoformat() if hit_filter.until else None,
        "query": hit_filter.query,
        "active_on": hit_filter.active_on.isoformat() if hit_filter.active_on else None,
        "late": None if hit_filter.late is None else str(hit_filter.late).lower(),
    }
    return {key: value for key, value in values.items() if value}


def feed_title(hit_filter: HitFilter) -> str:
    parts = ["attrap"]
    if hit_filter.category:
        parts.append(category_label(hit_filter.category))
    if hit_filter.department:
        name = department_names().get(hit_filter.department, "")
        parts.append(f"{name} ({hit_filter.department})" if name else hit_filter.department)
    if hit_filter.query:
        parts.append(f"« {hit_filter.query} »")
    return " — ".join(parts)


def _entry_title(hit: dict[str, Any]) -> str:
    department = hit["department"] or hit["administration"]["code"]
    return f"[{category_label(hit['category'])}] {department} — {hit['act']['title']}"


def _entry_text(hit: dict[str, Any]) -> str:
    act = hit["act"]
    signed = french_date(dt.date.fromisoformat(act["signed_on"])) if act["signed_on"] else None
    number = f"Acte n° {act['number']}" if act["number"] else "Acte"
    lines = [
        f"{number}{f' du {signed}' if signed else ''}, page {hit['page']}.",
        f"{hit['administration']['name']} — {hit['document']['title']}",
    ]
    if summary := facts_line(hit["facts"]):
        lines.append(summary)
    lines.append(hit["snippet"])
    return "\n".join(lines)


def atom_feed(
    hits: list[dict[str, Any]], hit_filter: HitFilter, *, feed_url: str, site_url: str
) -> bytes:
    """An Atom document for JSON hits (``hit_to_json``), newest first."""
    query = urlencode(filter_params(hit_filter))
    canonical = f"{site_url.rstrip('/')}/feeds/hits.atom" + (f"?{query}" if query else "")
    feed = FeedGenerator()
    feed.id(canonical)
    feed.title(feed_title(hit_filter))
    feed.subtitle("Arrêtés préfectoraux de surveillance repérés dans les recueils des actes")
    feed.author(name="attrap")
    feed.language("fr")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.link(
        href=f"{site_url.rstrip('/')}/recherche" + (f"?{query}" if query else ""), rel="alternate"
    )
    seen = [dt.datetime.fromisoformat(h["first_seen_at"]) for h in hits]
    feed.updated(max(seen, default=dt.datetime.now(dt.UTC)))
    for hit, first_seen in zip(hits, seen, strict=True):
        entry = feed.add_entry(order="append")
        entry.id(ENTRY_ID.format(hit["id"]))
        entry.title(_entry_title(hit))
        entry.link(href=hit["link"], rel="alternate", type="application/pdf")
        entry.published(first_seen)
        entry.updated(first_seen)
        entry.summary(_entry_text(hit))
        entry.category(term=hit["category"], label=category_label(hit["category"]))
    return bytes(feed.atom_str(pretty=True))
