"""Maintainer alerts: one message when a health incident opens and one when it is resolved, on
every channel marked ``maintainers = true``.

Alerts have their own outbox (``health_alerts``): a row per incident, event and channel, created
in the transaction that opens or resolves the incident, delivered by ``dispatch_alerts`` with the
channel's retries. Each message's key is derived from the row, so a retry after a crash is
recognised as a repeat (Mastodon's Idempotency-Key, the email's Message-ID, the webhook's
delivery id). Rows are few (one per incident): one dispatcher at a time is assumed (the daemon,
or the worker's locked dispatch task).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from attrap.config import Settings
from attrap.notify import messages
from attrap.notify.channel import Alert, ChannelConfigError, Delivery, DeliveryError
from attrap.notify.outbox import FAILED, PENDING, SENT, channel_settings, open_channel
from attrap.store.db import Database
from attrap.store.models import Administration, HealthAlert, HealthIncident, utcnow

log = logging.getLogger(__name__)


def maintainer_channels(settings: Settings) -> list[str]:
    return [name for name, cfg in channel_settings(settings).items() if cfg.maintainers]


def queue_alerts(session: Session, settings: Settings, incident: HealthIncident, event: str) -> int:
    """Queue the messages about an incident's ``event`` (opened or resolved), in the caller's
    transaction; how many."""
    channels = maintainer_channels(settings)
    for name in channels:
        incident.alerts.append(HealthAlert(event=event, channel=name, status=PENDING))
    return len(channels)


def _alert(session: Session, row: HealthAlert) -> Alert:
    incident = row.incident
    code = incident.administration_code
    name = session.scalar(select(Administration.name).where(Administration.code == code)) or code
    return Alert(
        subject=messages.alert_subject(name, incident.kind, row.event),
        text=messages.alert_body(name, code, incident.detail, row.event, incident.opened_at),
        administration=code,
        kind=incident.kind,
        event=row.event,
    )


def alert_key(row: HealthAlert) -> str:
    return f"attrap-{row.channel}-alert-{row.incident_id}-{row.event}"


def dispatch_alerts(database: Database, settings: Settings) -> int:
    """Send the alerts that are due; how many were sent."""
    channels = channel_settings(settings)
    now = utcnow()
    with database.session() as session:
        due = list(
            session.scalars(
                select(HealthAlert)
                .where(
                    HealthAlert.status == PENDING,
                    HealthAlert.channel.in_(list(channels)),
                    or_(HealthAlert.next_attempt_at.is_(None), HealthAlert.next_attempt_at <= now),
                )
                .options(selectinload(HealthAlert.incident))
                .order_by(HealthAlert.id)
            )
        )
        deliveries = [
            (row.id, row.channel, Delivery(alert_key(row), (), alert=_alert(session, row)))
            for row in due
        ]
    sent = 0
    for name in {channel for _, channel, _ in deliveries}:
        sent += _send_on(database, settings, name, [(i, d) for i, c, d in deliveries if c == name])
    return sent


def _send_on(
    database: Database, settings: Settings, name: str, deliveries: Iterable[tuple[int, Delivery]]
) -> int:
    cfg = channel_settings(settings)[name]
    try:
        channel = open_channel(name, settings)
    except ChannelConfigError as exc:
        log.error("maintainer alerts on %s: %s", name, exc)
        return 0
    sent = 0
    try:
        for row_id, delivery in deliveries:
            try:
                receipt = channel.send(delivery)
            except DeliveryError as exc:
                with database.session() as session:
                    row = session.get_one(HealthAlert, row_id)
                    row.attempts += 1
                    row.last_error = str(exc)
                    if exc.permanent or row.attempts >= cfg.max_attempts:
                        row.status = FAILED
                    else:
                        wait = min(cfg.retry_base_s * 2 ** (row.attempts - 1), cfg.retry_max_s)
                        row.next_attempt_at = utcnow() + dt.timedelta(seconds=wait)
                log.warning("maintainer alert %s on %s not sent: %s", row_id, name, exc)
                continue
            with database.session() as session:
                row = session.get_one(HealthAlert, row_id)
                row.attempts += 1
                row.status = SENT
                row.remote_id = receipt.remote_id
                row.sent_at = utcnow()
            sent += 1
    finally:
        channel.close()
    return sent
