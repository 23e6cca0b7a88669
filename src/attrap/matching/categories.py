"""Categories as people see them: label, hashtag, colour, notified by default or not.

They are declared with the rules (``rules.toml``, or the file ``[matching] rules`` names), so that
a category added there appears on the web page, in notifications and in the CLI with its own name.
A category the rules do not know (hits stored under older rules) still gets a readable name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from attrap.config import MatchingSettings, Settings
from attrap.matching.rules import Rules, load_rules

NEUTRAL_COLOUR = "#52525b"


@dataclass(frozen=True)
class CategoryInfo:
    id: str
    label: str
    description: str
    hashtag: str
    colour: str
    notify: bool


def _hashtag(category: str) -> str:
    return "#" + "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", category))


class Catalogue:
    """The categories of one set of rules, in their order."""

    def __init__(self, rules: Rules) -> None:
        self._by_id = {
            c.id: CategoryInfo(
                c.id, c.label, c.description, c.hashtag or _hashtag(c.id), c.colour, c.notify
            )
            for c in rules.categories
        }

    @property
    def ids(self) -> list[str]:
        return list(self._by_id)

    @property
    def notified(self) -> list[str]:
        """The categories notified by channels that do not list theirs."""
        return [c.id for c in self._by_id.values() if c.notify]

    def get(self, category: str) -> CategoryInfo:
        known = self._by_id.get(category)
        if known is not None:
            return known
        label = category.replace("-", " ").capitalize()
        return CategoryInfo(category, label, "", _hashtag(category), NEUTRAL_COLOUR, False)

    def label(self, category: str) -> str:
        return self.get(category).label

    def hashtag(self, category: str) -> str:
        return self.get(category).hashtag

    def colour(self, category: str) -> str:
        return self.get(category).colour


@functools.cache
def _catalogue(rules_path: str) -> Catalogue:
    return Catalogue(load_rules(Settings(matching=MatchingSettings(rules=rules_path))))


def catalogue(settings: Settings | None = None) -> Catalogue:
    """The categories of the configured rules (the shipped ones without ``settings``)."""
    return _catalogue(settings.matching.rules if settings is not None else "")
