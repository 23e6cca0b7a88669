"""Settings: TOML file + environment → typed, validated settings.

Lookup order: ``--config``, ``$ATTRAP_CONFIG``, ``./attrap.toml``, else defaults.
Secrets never live in the file: it names environment variables (``*_env`` keys).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import ErrorDetails

APP_NAME = "attrap"
CONFIG_ENV = "ATTRAP_CONFIG"
LOCAL_CONFIG = Path("attrap.toml")


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line for the user."""


class _Section(BaseModel):
    # An unknown key is a typo the user wants to hear about, not something to ignore.
    model_config = ConfigDict(extra="forbid", validate_default=True)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


class DatabaseSettings(_Section):
    url: str = ""


class StorageSettings(_Section):
    data_dir: Path = Field(default_factory=default_data_dir)


class CrawlSettings(_Section):
    not_before: dt.date = dt.date(2024, 1, 1)
    user_agent: str = "attrap/0.1 (+https://github.com/attrap/attrap; veille des RAA)"
    min_delay_s: float = Field(default=5.0, ge=0)
    max_concurrency: int = Field(default=8, ge=1)
    timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    max_pdf_mb: float = Field(default=200.0, gt=0)
    # Whole-body limit of one download attempt (timeout_s bounds each read, not a trickle).
    max_download_s: float = Field(default=600.0, gt=0)
    max_retry_after_s: float = Field(default=600.0, ge=0)
    # How many runs try a document whose download keeps failing before it is left failed.
    max_download_runs: int = Field(default=3, ge=1)
    # Redirects are followed to public addresses, or to the address the request started at; a
    # site redirecting elsewhere inside a private network (loopback, LAN, link-local: cloud
    # metadata) is refused unless this is set (a test site, an intranet mirror).
    private_redirects: bool = False
    proxy: str = ""


class AdapterOverride(_Section):
    start_urls: list[str] | None = None
    enabled: bool | None = None


class AdaptersSettings(_Section):
    paths: list[Path] = Field(default_factory=lambda: [Path("prefectures")])
    enabled: list[str] = Field(default_factory=lambda: ["*"])
    overrides: dict[str, AdapterOverride] = Field(default_factory=dict)


class ExtractSettings(_Section):
    # Used when pdfium rejects a file; "none" fails such files instead.
    fallback: Literal["pdfminer", "none"] = "pdfminer"
    timeout_s: float = Field(default=120.0, gt=0)
    # Address-space cap of each parsing and OCR child process: a hostile PDF fails alone.
    max_memory_mb: int = Field(default=768, ge=64)


class OcrSettings(_Section):
    enabled: bool = True
    tesseract: str = "tesseract"
    language: str = "fra"
    dpi: int = Field(default=300, ge=50, le=1200)
    workers: int = Field(default=0, ge=0)
    page_timeout_s: float = Field(default=120.0, gt=0)
    min_chars: int = Field(default=40, ge=0)


class ProcessingSettings(_Section):
    """Documents are processed in worker processes, apart from downloading."""

    # Fetched documents waiting for a processing worker; beyond it they wait in the database
    # (status fetched) and are taken up when the queue has room.
    queue_size: int = Field(default=200, ge=1)
    # A document needing OCR on more pages than this leaves the fast lane for the OCR lane, so
    # a long scan never holds born-digital bulletins back.
    fast_lane_ocr_pages: int = Field(default=4, ge=0)
    # Attempts at processing one document that were cut short (the process was killed, ran out
    # of memory) before it is marked failed.
    max_attempts: int = Field(default=3, ge=1)


class MatchingSettings(_Section):
    rules: str = ""


class FactsSettings(_Section):
    # Acts with a hit in one of these categories get their facts read (periods, places, …).
    categories: list[str] = Field(
        default_factory=lambda: [
            "drone",
            "vsa",
            "videoprotection",
            "cameras-individuelles",
            "perimetre-protection",
        ]
    )


class ChannelSettings(_Section):
    """What every notification channel shares: routing, retries, bursts. Each channel kind's
    settings model (``attrap.notify.registry``) derives from it."""

    enabled: bool = True
    # Category ids or globs; unset: the categories the rules notify (``notify = true``).
    categories: list[str] | None = None
    departments: list[str] = Field(default_factory=lambda: ["*"])
    max_attempts: int = Field(default=8, ge=1)
    digest_threshold: int = Field(default=5, ge=1)
    timeout_s: float = Field(default=30.0, gt=0)
    # Backoff after the n-th failed attempt: retry_base_s * 2**(n-1), at most retry_max_s.
    retry_base_s: float = Field(default=60.0, ge=0)
    retry_max_s: float = Field(default=6 * 3600.0, ge=0)
    # The channel also receives maintainer alerts (a site broken, silent or late); with
    # ``categories = []`` it receives only those.
    maintainers: bool = False

    def secret_names(self) -> list[str]:
        """The environment variables named by the channel's ``*_env`` keys (its secrets)."""
        return [value for key, value in self if key.endswith("_env") and value]

    def always_digests(self) -> bool:
        """Whether every dispatch sends what is due as one digest, however few."""
        return False


class _NotifyKeys(_Section):
    since: dt.date | None = None
    # How long a dispatcher owns the rows it claimed; a crashed one's rows are retried after it.
    # Keep it well under an hour: Mastodon remembers an Idempotency-Key for one hour.
    lease_s: float = Field(default=300.0, gt=0)


@functools.cache
def _notify_model(kinds: tuple[tuple[str, type[ChannelSettings]], ...]) -> type[_NotifyKeys]:
    """``[notify]`` as one model: its own keys and an optional table per channel kind, so that
    pydantic reports a bad or unknown key under its full name (``notify.email.port``)."""
    tables: dict[str, Any] = {name: (model | None, None) for name, model in kinds}
    return create_model("NotifySettings", __base__=_NotifyKeys, **tables)


class NotifySettings(_NotifyKeys):
    """``[notify]``: its own keys, and a table per channel kind of ``attrap.notify.registry``
    (``[notify.mastodon]``, ``[notify.email]``, …) validated by that kind's settings model."""

    _channels: dict[str, ChannelSettings] = PrivateAttr(default_factory=dict)

    @property
    def channels(self) -> dict[str, ChannelSettings]:
        """The configured channels, enabled or not, by name, in the registry's order."""
        return self._channels

    @model_validator(mode="wrap")
    @classmethod
    def _channel_tables(
        cls, data: Any, handler: ModelWrapValidatorHandler[NotifySettings]
    ) -> NotifySettings:
        if not isinstance(data, dict):
            return handler(data)
        # Imported here: the registry's settings models derive from ChannelSettings above.
        from attrap.notify import registry

        kinds = registry.kinds()
        model = _notify_model(tuple((kind.name, kind.settings) for kind in kinds))
        checked = model.model_validate(data)
        notify = handler({key: getattr(checked, key) for key in _NotifyKeys.model_fields})
        notify._channels = {
            kind.name: table for kind in kinds if (table := getattr(checked, kind.name)) is not None
        }
        return notify


class ScheduleSettings(_Section):
    # Between two crawls of one administration outside its busy hours…
    every_minutes: int = Field(default=60, ge=1)
    # …and during them: office hours on weekdays, and the hours its history shows it publishes.
    busy_every_minutes: int = Field(default=10, ge=1)
    office_hours: tuple[int, int] = (8, 19)
    office_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])  # Monday = 0
    # An hour of the week is busy for an administration when at least this many of its
    # bulletins (first seen by a routine crawl, not a backfill) appeared in it or next to it.
    busy_sightings: int = Field(default=2, ge=1)
    # Workers: up to this much random delay before each crawl (the daemon paces by address).
    jitter_s: int = Field(default=60, ge=0)
    # The daemon's checks in flight per server address: one slow page does not hold the others.
    crawls_per_address: int = Field(default=2, ge=1)
    # The daemon's cycle: unprocessed documents taken up, notifications and alerts delivered.
    cycle_s: float = Field(default=60.0, gt=0)
    # The daemon walks each site whole at start and then this often (0: at every check); the
    # checks between are quick: they leave out the list pages of years and months that ended
    # more than ``quick_check_days`` ago, which on a year → month site is most requests.
    deep_every_hours: float = Field(default=24.0, ge=0)
    quick_check_days: int = Field(default=10, ge=0)


class HealthSettings(_Section):
    # Runs failing in a row before an administration is "failing".
    failing_runs: int = Field(default=3, ge=1)
    # "late" when nothing new appeared for this many times its usual gap (the 90th percentile of
    # the gaps between its publication days)…
    late_factor: float = Field(default=3.0, gt=1)
    # …and at least this long;
    late_min_days: float = Field(default=7.0, gt=0)
    # learned from at least this many publication days (fewer: never late).
    min_history: int = Field(default=5, ge=2)


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Pages, lists and feeds are answered from memory for this long after being computed
    # (attrap.web.cache); 0 computes every answer.
    cache_seconds: float = Field(default=30.0, ge=0)


class Settings(_Section):
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    crawl: CrawlSettings = Field(default_factory=CrawlSettings)
    adapters: AdaptersSettings = Field(default_factory=AdaptersSettings)
    extract: ExtractSettings = Field(default_factory=ExtractSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    processing: ProcessingSettings = Field(default_factory=ProcessingSettings)
    matching: MatchingSettings = Field(default_factory=MatchingSettings)
    facts: FactsSettings = Field(default_factory=FactsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    # Where the settings came from; relative paths in the file are resolved against it.
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database.url:
            self.database.url = f"sqlite:///{self.storage.data_dir / 'attrap.db'}"
        return self

    def secret(self, env_name: str) -> str | None:
        """The value of a secret named by an ``*_env`` key, or None when unset."""
        return os.environ.get(env_name) if env_name else None

    def redact(self, text: str) -> str:
        """``text`` with every configured secret masked: a remote (or a proxy) may echo what it
        was sent into an error that is then stored, logged and shown."""
        names = [name for cfg in self.notify.channels.values() for name in cfg.secret_names()]
        for value in filter(None, map(self.secret, names)):
            text = text.replace(value, "***")
        return text


def find_config_file(explicit: Path | None) -> Path | None:
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    return LOCAL_CONFIG if LOCAL_CONFIG.is_file() else None


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped: a key may hold any."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


# pydantic's words for the commonest problems of a hand-written TOML file, in French.
_REASONS = {
    "missing": "obligatoire",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "bool_type": "true ou false attendu",
    "bool_parsing": "true ou false attendu",
    "string_type": "texte attendu",
    "list_type": "liste attendue",
    "tuple_type": "liste attendue",
    "dict_type": "table attendue",
    "model_type": "table attendue",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
}
_BOUNDS = {
    "greater_than_equal": ("ge", "au moins {}"),
    "greater_than": ("gt", "plus de {}"),
    "less_than_equal": ("le", "au plus {}"),
    "less_than": ("lt", "moins de {}"),
    "too_short": ("min_length", "au moins {} élément(s)"),
    "too_long": ("max_length", "au plus {} élément(s)"),
    "string_too_short": ("min_length", "au moins {} caractère(s)"),
    "string_too_long": ("max_length", "au plus {} caractère(s)"),
    "literal_error": ("expected", "valeur attendue : {}"),
    "enum": ("expected", "valeur attendue : {}"),
}


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in _REASONS:
        return _REASONS[kind]
    if kind in _BOUNDS and _BOUNDS[kind][0] in context:
        name, wording = _BOUNDS[kind]
        return wording.format(str(context[name]).replace(" or ", " ou "))
    if kind == "value_error" and "error" in context:  # our validators' own words
        return str(context["error"])
    return error["msg"]


def validation_problems(exc: ValidationError, prefix: str = "") -> str:
    """Every problem of ``exc`` on one line, in French, each naming its key (under ``prefix``,
    e.g. ``dsfr.`` for an adapter's engine table): what the configuration, adapter and rules
    files' errors say."""

    def problem(error: ErrorDetails) -> str:
        if not error["loc"]:  # the model's own check, across keys
            return _one_line(_reason(error))
        key = _one_line(prefix + ".".join(str(part) for part in error["loc"]))
        if error["type"] == "extra_forbidden":
            return f"clé inconnue '{key}'"
        return f"clé '{key}' : {_one_line(_reason(error))}"

    return " ; ".join(problem(error) for error in exc.errors())


def _resolve_relative(data: dict[str, Any], base: Path) -> None:
    storage = data.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("data_dir"), str):
        storage["data_dir"] = str(base / Path(storage["data_dir"]).expanduser())
    adapters = data.get("adapters")
    if isinstance(adapters, dict) and isinstance(adapters.get("paths"), list):
        adapters["paths"] = [
            str(base / Path(p).expanduser()) if isinstance(p, str) else p for p in adapters["paths"]
        ]
    matching = data.get("matching")
    if isinstance(matching, dict) and isinstance(matching.get("rules"), str) and matching["rules"]:
        matching["rules"] = str(base / Path(matching["rules"]).expanduser())


def load_settings(path: Path | None = None) -> Settings:
    """Load settings; raises ConfigError with one readable line on any problem."""
    config_file = find_config_file(path)
    if config_file is None:
        return Settings()
    try:
        raw = config_file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{config_file} : lecture impossible : {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{config_file} : TOML invalide : {exc}") from exc
    _resolve_relative(data, config_file.resolve().parent)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{config_file} : {validation_problems(exc)}") from exc
    settings.source = config_file
    return settings
