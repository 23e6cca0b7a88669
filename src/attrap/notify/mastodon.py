"""Mastodon: one status per hit (or per digest) through ``POST /api/v1/statuses``.

Exactly-once relies on Mastodon's ``Idempotency-Key`` header: the key is derived from the hit, so
a retry after a crash (the status was accepted but we never recorded it) gets the same status
back instead of a second one. Mastodon remembers a key for one hour, which is why the outbox's
lease (``notify.lease_s``) is minutes, not hours.
"""

from __future__ import annotations

import datetime as dt

import httpx

from attrap.config import Settings
from attrap.notify import messages
from attrap.notify.channel import (
    ChannelConfigError,
    Delivery,
    DeliveryError,
    Receipt,
    http_error,
    rate_limit_reset,
)
from attrap.notify.registry import MastodonSettings


class MastodonChannel:
    name = "mastodon"

    def __init__(self, settings: MastodonSettings, token: str | None, user_agent: str) -> None:
        if not settings.instance:
            raise ChannelConfigError("notify.mastodon.instance est vide")
        if not token:
            raise ChannelConfigError(
                "jeton Mastodon absent : définissez la variable d'environnement "
                f"{settings.token_env}"
            )
        self.settings = settings
        self._client = httpx.Client(
            base_url=settings.instance.rstrip("/"),
            timeout=settings.timeout_s,
            headers={"Authorization": f"Bearer {token}", "User-Agent": user_agent},
        )
        self._max_characters: int | None = None

    def max_characters(self) -> int:
        """The instance's status length limit, read once; 500 when the instance does not say."""
        if self._max_characters is None:
            self._max_characters = messages.DEFAULT_MAX_CHARACTERS
            try:
                response = self._client.get("/api/v1/instance")
                response.raise_for_status()
                limit = response.json()["configuration"]["statuses"]["max_characters"]
                if isinstance(limit, int) and limit > 0:
                    self._max_characters = limit
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                pass  # older or non-Mastodon servers: keep the documented default
        return self._max_characters

    def send(self, delivery: Delivery) -> Receipt:
        limit = self.max_characters()
        if delivery.alert is not None:
            text = messages.alert_status_text(delivery.alert, limit)
        elif delivery.digest:
            text = messages.digest_status_text(delivery.hits, limit)
        else:
            text = messages.status_text(delivery.hits[0], limit)
        now = dt.datetime.now(dt.UTC)
        try:
            response = self._client.post(
                "/api/v1/statuses",
                json={
                    "status": text,
                    "visibility": self.settings.visibility,
                    "language": self.settings.language,
                },
                headers={"Idempotency-Key": delivery.key},
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise http_error(response, now)
        try:
            status_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            # Accepted, but we cannot tell which status it is: a retry with the same key is safe.
            raise DeliveryError(f"réponse inattendue de l'instance : {exc!r}") from exc
        paused = response.headers.get("X-RateLimit-Remaining", "").strip() == "0"
        return Receipt(status_id, rate_limit_reset(response) if paused else None)

    def close(self) -> None:
        self._client.close()


def open_channel(cfg: MastodonSettings, settings: Settings) -> MastodonChannel:
    """The channel of ``[notify.mastodon]`` (see ``attrap.notify.registry``)."""
    return MastodonChannel(cfg, settings.secret(cfg.token_env), settings.crawl.user_agent)
