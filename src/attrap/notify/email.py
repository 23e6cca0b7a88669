"""Email: one plain-text French message per hit, or one digest, over SMTP (STARTTLS or SSL).

The ``Message-ID`` is derived from the delivery key, so it stays the same across retries.
Delivery is at-least-once: SMTP has no idempotency, and a crash after the server accepted the
message but before the row is marked sent sends it again on retry — with the same Message-ID,
which lets mail clients and archives recognise the duplicate.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import smtplib
import ssl
from email.message import EmailMessage

from attrap.config import Settings
from attrap.notify import messages
from attrap.notify.channel import ChannelConfigError, Delivery, DeliveryError, Receipt
from attrap.notify.registry import EmailSettings


def build_message(
    settings: EmailSettings, delivery: Delivery, now: dt.datetime | None = None
) -> EmailMessage:
    if delivery.alert is not None:
        subject, body = delivery.alert.subject, delivery.alert.text
    elif delivery.digest:
        subject = messages.digest_email_subject(delivery.hits)
        body = messages.digest_email_body(delivery.hits)
    else:
        subject = messages.email_subject(delivery.hits[0])
        body = messages.email_body(delivery.hits[0])
    domain = email.utils.parseaddr(settings.sender)[1].rpartition("@")[2] or "attrap.invalid"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Date"] = email.utils.format_datetime(now or dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{delivery.key}@{domain}>"
    # Quoted-printable keeps the body 7-bit clean for servers without 8BITMIME.
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    return message


class EmailChannel:
    name = "email"

    def __init__(self, settings: EmailSettings, password: str | None) -> None:
        missing = [key for key in ("host", "sender", "to") if not getattr(settings, key)]
        if missing:
            raise ChannelConfigError(f"notify.email.{missing[0]} est vide")
        if settings.password_env and not password:
            raise ChannelConfigError(
                f"mot de passe SMTP absent : définissez la variable d'environnement "
                f"{settings.password_env}"
            )
        self.settings = settings
        self._password = password or ""

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        context = ssl.create_default_context()
        if settings.ssl:
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_s, context=context
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
        if settings.starttls:
            smtp.starttls(context=context)
        return smtp

    def send(self, delivery: Delivery) -> Receipt:
        message = build_message(self.settings, delivery)
        try:
            with self._connect() as smtp:
                if self.settings.user:
                    smtp.login(self.settings.user, self._password)
                refused = smtp.send_message(message)
        except smtplib.SMTPDataError as exc:
            # A 5xx after DATA is the server judging this message (size, content): final.
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        note = f"refused recipients: {', '.join(sorted(refused))}" if refused else None
        return Receipt(message["Message-ID"], note=note)

    def close(self) -> None:
        """Nothing to release: each delivery opens and closes its own SMTP session."""


def open_channel(cfg: EmailSettings, settings: Settings) -> EmailChannel:
    """The channel of ``[notify.email]`` (see ``attrap.notify.registry``)."""
    return EmailChannel(cfg, settings.secret(cfg.password_env))
