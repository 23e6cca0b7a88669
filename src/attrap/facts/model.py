"""What an order says, as typed values: the facts stage's output and its JSON form.

A field the act does not state is ``None`` (or empty): facts are read, never guessed. Each field
keeps the sentence it came from (``evidence``), so a reader can check it against the act.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Bumped whenever the extractor's output may change: stored facts of an older version are
# recomputed by ``attrap reprocess``.
FACTS_VERSION = "1"


@dataclass(frozen=True)
class Period:
    """One stretch of time the order authorises, in the administration's local time."""

    start: dt.datetime  # timezone-aware
    end: dt.datetime | None  # None when the act gives a start only (« à partir du … »)
    evidence: str

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Period:
        end = data.get("end")
        return cls(
            start=dt.datetime.fromisoformat(data["start"]),
            end=dt.datetime.fromisoformat(end) if end else None,
            evidence=data.get("evidence", ""),
        )


@dataclass(frozen=True)
class Commune:
    name: str
    insee: str | None  # None when the name is not a commune of the administration's territory


@dataclass(frozen=True)
class Operator:
    """Who asked for the authorisation or carries it out: « DIPN du Rhône », « RATP »."""

    name: str
    kind: str  # police-nationale, gendarmerie, police-aux-frontieres, douane, … (see operators)


@dataclass(frozen=True)
class Facts:
    periods: tuple[Period, ...] = ()
    communes: tuple[Commune, ...] = ()
    perimeter: str | None = None
    operator: Operator | None = None
    max_cameras: int | None = None
    max_aircraft: int | None = None
    purposes: tuple[str, ...] = ()  # codes of purposes.PURPOSES
    event: str | None = None
    # Field name → the sentence it was read from (periods carry their own).
    evidence: dict[str, str] = field(default_factory=dict)

    @property
    def first_start(self) -> dt.datetime | None:
        return min((p.start for p in self.periods), default=None)

    @property
    def last_end(self) -> dt.datetime | None:
        ends = [p.end for p in self.periods if p.end is not None]
        return max(ends, default=None)

    def is_empty(self) -> bool:
        return not (
            self.periods
            or self.communes
            or self.perimeter
            or self.operator
            or self.max_cameras is not None
            or self.max_aircraft is not None
            or self.purposes
            or self.event
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "periods": [p.to_json() for p in self.periods],
            "communes": [{"name": c.name, "insee": c.insee} for c in self.communes],
            "perimeter": self.perimeter,
            "operator": (
                {"name": self.operator.name, "kind": self.operator.kind} if self.operator else None
            ),
            "max_cameras": self.max_cameras,
            "max_aircraft": self.max_aircraft,
            "purposes": list(self.purposes),
            "event": self.event,
            "evidence": dict(self.evidence),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Facts:
        operator = data.get("operator")
        return cls(
            periods=tuple(Period.from_json(p) for p in data.get("periods", [])),
            communes=tuple(Commune(c["name"], c.get("insee")) for c in data.get("communes", [])),
            perimeter=data.get("perimeter"),
            operator=Operator(operator["name"], operator["kind"]) if operator else None,
            max_cameras=data.get("max_cameras"),
            max_aircraft=data.get("max_aircraft"),
            purposes=tuple(data.get("purposes", [])),
            event=data.get("event"),
            evidence=dict(data.get("evidence", {})),
        )


@dataclass(frozen=True)
class ActContext:
    """What the extractor knows about an act besides its text."""

    timezone: str = "Europe/Paris"
    # The départements whose communes the act may name (an administration's territory).
    departments: tuple[str, ...] = ()
    # Dates that tell the year of « le 1er mai » and the start of « à compter de sa publication ».
    signed_on: dt.date | None = None
    published_on: dt.date | None = None
