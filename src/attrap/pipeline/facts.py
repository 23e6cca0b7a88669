"""Facts of the acts that have a hit in a facts category: read (``attrap.facts``) and stored.

Runs inside the transaction that stores a document's acts and hits, for every act each time
(first processing and ``attrap reprocess``), so facts always follow the current text, rules and
extractor. An act that no longer has such a hit loses its facts. A failure of the extractor on
one act is recorded in that act's facts (``data.error``) and does not stop the document.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from attrap.config import Settings
from attrap.documents.segment import ActSegment
from attrap.facts import FACTS_VERSION, Facts, act_context, extract_facts
from attrap.facts.timing import lead_time, publication
from attrap.pipeline.errors import describe_error
from attrap.store.models import Act, ActFacts, ActPeriod, Document

log = logging.getLogger(__name__)


class FactsReader:
    """Reads and stores the facts of the acts whose hits ask for them."""

    def __init__(self, categories: Iterable[str]) -> None:
        self.categories = frozenset(categories)

    @classmethod
    def from_settings(cls, settings: Settings) -> FactsReader:
        return cls(settings.facts.categories)

    def record(self, act: Act, segment: ActSegment, document: Document) -> None:
        if not any(hit.category in self.categories for hit in act.hits):
            act.facts = None
            act.periods.clear()
            return
        administration = document.administration
        context = act_context(
            administration_code=administration.code,
            department=administration.department,
            kind=administration.kind,
            timezone=administration.timezone,
            signed_on=segment.signed_on,
            published_on=document.published_on,
        )
        row = act.facts or ActFacts()
        act.facts = row
        row.version = FACTS_VERSION
        try:
            facts = extract_facts([page.text for page in segment.pages], context)
        except Exception as exc:  # the extractor's bug must not cost the document its hits
            log.warning("facts of act %s failed: %s", act.number, exc, exc_info=True)
            facts = Facts()
            row.data = {**facts.to_json(), "error": describe_error(exc)}
        else:
            row.data = facts.to_json()
        row.first_start = facts.first_start
        row.last_end = facts.last_end
        published = publication(
            published_on=document.published_on,
            first_seen_at=document.first_seen_at,
            signed_on=segment.signed_on,
            timezone=administration.timezone,
        )
        row.published_at = published.at if published else None
        row.publication_basis = published.basis if published else None
        lead = lead_time(facts.first_start, published) if published and facts.first_start else None
        row.lead_seconds = int(lead.total_seconds()) if lead is not None else None
        row.late = lead < dt.timedelta(0) if lead is not None else None
        _store_periods(act, facts)


def _store_periods(act: Act, facts: Facts) -> None:
    wanted = [(p.start, p.end) for p in facts.periods]
    if [(p.starts_at, p.ends_at) for p in act.periods] == wanted:
        return  # unchanged: no churn of rows on every reprocess
    act.periods.clear()
    for start, end in wanted:
        # A period ending at midnight does not touch the next day.
        last = (end - dt.timedelta(microseconds=1)).date() if end else start.date()
        act.periods.append(
            ActPeriod(starts_at=start, ends_at=end, first_day=start.date(), last_day=last)
        )
