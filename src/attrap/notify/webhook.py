"""Webhook: a JSON POST per hit (the hit object of the shared DESIGN.md) or per digest.

Headers: ``X-Attrap-Delivery`` (stable across retries: the receiver dedupes on it),
``X-Attrap-Event`` (``hit``, ``digest``, or ``alert`` for maintainer alerts) and, when a secret
is configured,
``X-Attrap-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

Delivery is at-least-once: if we crash after the receiver answered but before the row is marked
sent, the same body is posted again with the same delivery id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import asdict

import httpx

from attrap.config import Settings
from attrap.notify.channel import ChannelConfigError, Delivery, DeliveryError, Receipt, http_error
from attrap.notify.registry import WebhookSettings

SIGNATURE_HEADER = "X-Attrap-Signature"
DELIVERY_HEADER = "X-Attrap-Delivery"
EVENT_HEADER = "X-Attrap-Event"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(delivery: Delivery) -> bytes:
    data: object
    if delivery.alert is not None:
        data = {"alert": delivery.key, **asdict(delivery.alert)}
    elif delivery.digest:
        data = {"digest": delivery.key, "hits": list(delivery.hits)}
    else:
        data = delivery.hits[0]
    return json.dumps(data, ensure_ascii=False).encode()


def event(delivery: Delivery) -> str:
    if delivery.alert is not None:
        return "alert"
    return "digest" if delivery.digest else "hit"


class WebhookChannel:
    name = "webhook"

    def __init__(self, settings: WebhookSettings, secret: str | None, user_agent: str) -> None:
        if not settings.url:
            raise ChannelConfigError("notify.webhook.url est vide")
        if settings.secret_env and not secret:
            raise ChannelConfigError(
                "secret du webhook absent : définissez la variable d'environnement "
                f"{settings.secret_env}"
            )
        self.settings = settings
        self._secret = secret
        self._client = httpx.Client(timeout=settings.timeout_s, headers={"User-Agent": user_agent})

    def send(self, delivery: Delivery) -> Receipt:
        body = payload(delivery)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: delivery.key,
            EVENT_HEADER: event(delivery),
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        now = dt.datetime.now(dt.UTC)
        try:
            response = self._client.post(self.settings.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise http_error(response, now)
        return Receipt(delivery.key)

    def close(self) -> None:
        self._client.close()


def open_channel(cfg: WebhookSettings, settings: Settings) -> WebhookChannel:
    """The channel of ``[notify.webhook]`` (see ``attrap.notify.registry``)."""
    return WebhookChannel(cfg, settings.secret(cfg.secret_env), settings.crawl.user_agent)
