"""What the outbox hands a channel, what a channel answers, and the errors it may raise.

A channel module (Mastodon, email, webhook) implements :class:`Channel`; the outbox decides
what is due, claims it, groups it and records the outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from attrap import fetching

if TYPE_CHECKING:
    import httpx

HitJson = dict[str, Any]
"""A hit as ``attrap.store.queries.hit_to_json`` renders it (the shared DESIGN.md § JSON hit)."""

# Statuses that say the request itself is wrong: sending it again cannot succeed. 401, 403 and
# 404 are left out on purpose: they usually mean a wrong token or URL, which the user can fix
# before the retries run out.
_PERMANENT_STATUSES = frozenset({400, 410, 413, 415, 422})


class ChannelConfigError(Exception):
    """The channel is configured but cannot be used (missing URL, secret, …)."""


class DeliveryError(Exception):
    """The remote refused the delivery or could not be reached.

    ``permanent`` deliveries fail at once instead of being retried.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class RateLimited(DeliveryError):
    """The remote asks us to wait: not a failed attempt, the channel pauses until ``until``."""

    def __init__(self, message: str, until: dt.datetime | None) -> None:
        super().__init__(message)
        self.until = until


@dataclass(frozen=True)
class Alert:
    """A message for maintainers (a site broken, silent or late, or recovered), in French."""

    subject: str
    text: str
    administration: str  # its code
    kind: str  # failing | silent | late | moved
    event: str  # opened | resolved


@dataclass(frozen=True)
class Delivery:
    """One message to send: a single hit, a digest of several, or a maintainer alert.

    ``key`` is stable across retries and processes; channels use it as the idempotency key,
    Message-ID or delivery id so that the remote can recognise a repeat.
    """

    key: str
    hits: tuple[HitJson, ...]
    digest: bool = False
    alert: Alert | None = None


@dataclass(frozen=True)
class Receipt:
    """What the remote accepted: its id for the message, when to send the next one, and anything
    the user should know although the delivery counts as done (kept as the row's last error)."""

    remote_id: str
    pause_until: dt.datetime | None = None
    note: str | None = None


class Channel(Protocol):
    """A way to reach people; ``send`` raises DeliveryError (or RateLimited) when it fails."""

    name: str

    def send(self, delivery: Delivery) -> Receipt: ...

    def close(self) -> None: ...


def hit_key(channel: str, hit: HitJson) -> str:
    """A delivery key derived from what the hit is about (document, act, category), not from its
    database id, so that it stays the same across retries, processes and re-imports."""
    identity = "\n".join(
        [
            channel,
            hit["document"]["url"],
            str(hit["act"]["page_start"]),
            hit["act"]["number"] or "",
            hit["category"],
        ]
    )
    return f"attrap-{channel}-{hashlib.sha256(identity.encode()).hexdigest()[:32]}"


def digest_key(channel: str, hit_keys: list[str]) -> str:
    """The stored identity of a digest (32 hex characters) from its members' keys."""
    identity = "\n".join([channel, *sorted(hit_keys)])
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


def digest_delivery_key(channel: str, stored_key: str) -> str:
    return f"attrap-{channel}-digest-{stored_key}"


def http_error(response: httpx.Response, now: dt.datetime) -> DeliveryError:
    """The error for a non-2xx answer; 429 becomes :class:`RateLimited`."""
    detail = response.text[:300].strip()
    message = f"HTTP {response.status_code} {response.reason_phrase}: {detail}".rstrip(": ")
    if response.status_code == 429:
        return RateLimited(message, retry_after(response, now))
    return DeliveryError(message, permanent=response.status_code in _PERMANENT_STATUSES)


def retry_after(response: httpx.Response, now: dt.datetime) -> dt.datetime | None:
    """When the remote says we may try again: ``Retry-After`` (seconds or HTTP date), else
    Mastodon's ``X-RateLimit-Reset`` (ISO 8601); None when it does not say."""
    return fetching.retry_after(response.headers.get("Retry-After"), now) or rate_limit_reset(
        response
    )


def rate_limit_reset(response: httpx.Response) -> dt.datetime | None:
    value = response.headers.get("X-RateLimit-Reset", "").strip()
    if not value:
        return None
    try:
        reset = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return reset.astimezone(dt.UTC) if reset.tzinfo else reset.replace(tzinfo=dt.UTC)
