"""The notification channel kinds, in one place: each one's name (its ``[notify.<name>]`` table
and the ``channel`` of its outbox rows), its settings model, and the function that opens it.

A new channel is a module of this package implementing :class:`attrap.notify.channel.Channel`
with a function ``open_channel(cfg, settings)``, and its settings model (a subclass of
``ChannelSettings``, whose keys every channel shares) registered below. The settings models are
plain pydantic models, since this module is imported whenever the configuration is read; a
channel's module is imported the first time the channel is opened, so reading the settings (and
``attrap --help``) loads neither httpx nor smtplib.

Secrets never live in the file: a channel's ``*_env`` keys name environment variables, whose
values ``Settings.redact`` masks in every error stored or shown.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import Field

from attrap.config import ChannelSettings, NotifySettings

if TYPE_CHECKING:
    from attrap.config import Settings
    from attrap.notify.channel import Channel


@dataclass(frozen=True)
class ChannelKind:
    name: str
    settings: type[ChannelSettings]
    # "module:function": ``function(cfg, settings) -> Channel``, imported on first use; it raises
    # ChannelConfigError when the configuration cannot be used (a key empty, a secret unset).
    opener: str

    def open(self, cfg: ChannelSettings, settings: Settings) -> Channel:
        module, _, function = self.opener.partition(":")
        channel: Channel = getattr(importlib.import_module(module), function)(cfg, settings)
        return channel


_KINDS: dict[str, ChannelKind] = {}


def register(kind: ChannelKind) -> ChannelKind:
    """Add a channel kind; its ``[notify.<name>]`` table is read by the settings loaded after."""
    if kind.name in NotifySettings.model_fields:
        raise ValueError(f"{kind.name!r} is a key of [notify], not a channel name")
    known = _KINDS.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"a channel kind named {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def kinds() -> list[ChannelKind]:
    """Every channel kind, in the order they were registered (the order channels are listed)."""
    return list(_KINDS.values())


def get(name: str) -> ChannelKind | None:
    return _KINDS.get(name)


class MastodonSettings(ChannelSettings):
    instance: str = ""
    token_env: str = "ATTRAP_MASTODON_TOKEN"
    visibility: str = "public"
    language: str = "fr"


class EmailSettings(ChannelSettings):
    host: str = ""
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    user: str = ""
    password_env: str = ""
    sender: str = ""
    to: list[str] = Field(default_factory=list)
    digest: bool = False

    def always_digests(self) -> bool:
        return self.digest


class WebhookSettings(ChannelSettings):
    url: str = ""
    secret_env: str = ""
    categories: list[str] = Field(default_factory=lambda: ["*"])


register(ChannelKind("mastodon", MastodonSettings, "attrap.notify.mastodon:open_channel"))
register(ChannelKind("email", EmailSettings, "attrap.notify.email:open_channel"))
register(ChannelKind("webhook", WebhookSettings, "attrap.notify.webhook:open_channel"))
