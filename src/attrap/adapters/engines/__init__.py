"""The engines: one module per site family, found by the name an adapter file gives."""

from __future__ import annotations

from typing import Any

from attrap.adapters.base import Engine
from attrap.adapters.engines.dims import DimsEngine
from attrap.adapters.engines.dsfr import DsfrEngine
from attrap.adapters.engines.police import PoliceEngine
from attrap.adapters.engines.regions import RegionsEngine
from attrap.adapters.registry import AdapterError, AdapterSpec

ENGINES: dict[str, Engine[Any]] = {
    engine.name: engine for engine in (DsfrEngine(), RegionsEngine(), DimsEngine(), PoliceEngine())
}


def get_engine(name: str) -> Engine[Any]:
    """The engine called ``name``; an unknown name is an ``AdapterError`` listing the known ones."""
    try:
        return ENGINES[name]
    except KeyError:
        known = ", ".join(sorted(ENGINES))
        raise AdapterError(f"moteur inconnu '{name}' (moteurs connus : {known})") from None


def validate_spec(spec: AdapterSpec) -> None:
    """Checks what loading a file cannot: the engine exists, its settings table is valid, and
    no other unknown top-level key hides a typo. Errors name the file."""
    where = spec.source or f"adaptateur {spec.code}"
    try:
        engine = get_engine(spec.engine)
    except AdapterError as exc:
        raise AdapterError(f"{where} : clé 'engine' : {exc}") from None
    unknown = sorted(set(spec.model_extra or {}) - {spec.engine})
    if unknown:
        raise AdapterError(f"{where} : clé(s) inconnue(s) : {', '.join(unknown)}")
    engine.settings(spec)
