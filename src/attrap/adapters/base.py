"""What an engine is: given an administration's declaration and a way to fetch pages, it yields
references to the PDF bulletins it finds. Engines never download PDFs and never touch the
database."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from attrap.adapters.registry import AdapterError, AdapterSpec
from attrap.config import validation_problems
from attrap.fetching import HtmlPage


@dataclass(frozen=True)
class DocumentRef:
    """A bulletin found on a site: its absolute URL, title and publication date when known, and
    the URL requested for the page whose link yielded it (``found_on``)."""

    url: str
    title: str
    published_on: dt.date | None = None
    found_on: str | None = None


class PageFetcher(Protocol):
    """The part of the HTTP client engines may use. ``attrap.http.HttpClient`` satisfies it
    structurally: adapters never import the client, nor the client adapters (``fetching.py``).

    One fetcher serves one crawl and must keep the cookies servers set across its requests
    (Moselle's DIMS answers its list only within the session ``raa.html`` opened). Redirects
    are followed: ``HtmlPage.url`` is the final URL."""

    async def fetch_html(
        self, url: str, *, method: str = "GET", data: Mapping[str, str] | None = None
    ) -> HtmlPage:
        """Fetch a page politely; raises ``attrap.fetching.FetchError`` when it cannot."""
        ...


def nothing_known(url: str) -> bool:
    return False


def nothing_settled(url: str, end: dt.date) -> bool:
    return False


@dataclass
class Structure:
    """What an engine decided about a site's structure during one crawl: ``attrap adapters
    check`` prints it and a recording keeps it. ``engine`` names the site family; an engine
    that detects more (``dsfr``: pagination order, detail pages, menus, levels) subclasses it,
    fills it in as it reads pages and hands it over through ``CrawlContext.on_structure``."""

    engine: str

    def pins(self) -> dict[str, object]:
        """The engine settings that would pin what this crawl decided (none by default)."""
        return {}


def ignore_structure(structure: Structure) -> None:
    return None


@dataclass(frozen=True)
class CrawlContext:
    """What an engine gets for one crawl, including what earlier crawls of the administration
    found, so that repeated crawls ask the site for what is new only:

    - ``known(url)``: the URL is a bulletin already recorded, or a page one was found on;
    - ``known_since``: earlier crawls that ran to their end saw every bulletin published on or
      after this date (None: no such crawl). Only when it is not after ``not_before`` may an
      engine stop walking a list at a page whose items are all known; otherwise the older pages
      hold bulletins no crawl has looked for yet;
    - ``settled(url, end)``: a quick check leaves out the list page at ``url``, whose items are
      all dated on or before ``end`` (a past year or month): the deep crawls that run between
      quick checks walk it (the daemon's ``schedule.deep_every_hours``);
    - ``on_structure``: given the ``Structure`` the engine fills in (``attrap adapters check``).
    """

    spec: AdapterSpec
    fetcher: PageFetcher
    not_before: dt.date
    known: Callable[[str], bool] = nothing_known
    known_since: dt.date | None = None
    settled: Callable[[str, dt.date], bool] = nothing_settled
    on_structure: Callable[[Structure], None] = ignore_structure


class EngineSettings(BaseModel):
    """Base of an engine's settings table; an unknown key is a typo worth an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


SettingsT = TypeVar("SettingsT", bound=EngineSettings)


class Engine(ABC, Generic[SettingsT]):
    """A site family, the one interface of the registry and the crawl: a name, its settings
    model (the adapter file's ``[<name>]`` table) and ``discover``.

    ``discover`` yields every bulletin published on or after ``not_before`` (undated ones too),
    without walking archive pages that are entirely older. Bulletins the context says are known
    may be left out, with the pages that would only lead to them."""

    name: ClassVar[str]
    settings_model: type[SettingsT]

    def settings(self, spec: AdapterSpec) -> SettingsT:
        """The spec's ``[<engine>]`` table, validated; errors name the adapter file."""
        try:
            return self.settings_model.model_validate(spec.engine_settings())
        except ValidationError as exc:
            where = spec.source or f"adaptateur {spec.code}"
            raise AdapterError(f"{where} : {validation_problems(exc, f'{self.name}.')}") from exc

    @abstractmethod
    def discover(self, context: CrawlContext) -> AsyncIterator[DocumentRef]: ...
