"""Loads adapter declarations (``prefectures/*.toml``) and keeps the ``administrations`` table in
step with them."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from attrap.config import Settings, validation_problems
from attrap.store.dialects import dialect_insert
from attrap.store.models import Administration


class AdapterError(Exception):
    """An adapter file that cannot be used; the message names the file."""


class AdapterSpec(BaseModel):
    """One administration as declared in its TOML file."""

    model_config = ConfigDict(extra="allow")  # engine settings live in a table named after it

    code: str = Field(min_length=1, max_length=8)
    name: str
    kind: Literal["departement", "region", "police"]
    timezone: str = "Europe/Paris"
    engine: str
    start_urls: list[str] = Field(min_length=1)
    # The département hits are filed under; defaults to the code for a département.
    department: str | None = None
    enabled: bool = True
    notes: str = ""
    source: Path | None = Field(default=None, exclude=True)

    @property
    def filed_department(self) -> str | None:
        if self.department is not None:
            return self.department
        return self.code if self.kind == "departement" else None

    def engine_settings(self) -> dict[str, Any]:
        """The table named after the engine (``[dsfr]`` …), empty when absent."""
        extra = self.model_extra or {}
        section = extra.get(self.engine, {})
        return section if isinstance(section, dict) else {}


def builtin_dir() -> Path:
    """The shipped adapters: inside the wheel, or the repository's ``prefectures/`` folder."""
    packaged = Path(str(resources.files("attrap"))) / "_prefectures"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "prefectures"


def _sort_key(code: str) -> tuple[int, str]:
    # Départements in numeric order (2A/2B after 20), then PP and regions.
    digits = code.replace("A", "0").replace("B", "1")
    return (0, digits.zfill(4)) if digits.isdigit() else (1, code)


def load_file(path: Path) -> AdapterSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        spec = AdapterSpec.model_validate(data)
    except OSError as exc:
        raise AdapterError(f"{path} : lecture impossible : {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AdapterError(f"{path} : TOML invalide : {exc}") from exc
    except ValidationError as exc:
        raise AdapterError(f"{path} : {validation_problems(exc)}") from exc
    spec.source = path
    return spec


def adapter_dirs(settings: Settings) -> list[Path]:
    dirs: list[Path] = []
    for candidate in [builtin_dir(), *settings.adapters.paths]:
        if candidate.is_dir() and all(candidate.resolve() != d.resolve() for d in dirs):
            dirs.append(candidate)
    return dirs


def load_adapters(settings: Settings) -> list[AdapterSpec]:
    """Every declared adapter, overrides applied; a later folder replaces an earlier code."""
    by_code: dict[str, AdapterSpec] = {}
    for folder in adapter_dirs(settings):
        for path in sorted(folder.glob("*.toml")):
            spec = load_file(path)
            by_code[spec.code] = spec
    for code, override in settings.adapters.overrides.items():
        overridden = by_code.get(code)
        if overridden is None:
            raise AdapterError(
                f'[adapters.overrides."{code}"] : aucun adaptateur n\'a le code {code}'
            )
        changes = override.model_dump(exclude_none=True)
        by_code[code] = overridden.model_copy(update=changes)
    patterns = settings.adapters.enabled
    for code, spec in by_code.items():
        if not any(fnmatch.fnmatchcase(code, p) for p in patterns):
            by_code[code] = spec.model_copy(update={"enabled": False})
    return [by_code[c] for c in sorted(by_code, key=_sort_key)]


def select_adapters(specs: Iterable[AdapterSpec], codes: list[str]) -> list[AdapterSpec]:
    """The enabled adapters, or exactly those named (named ones run even when disabled)."""
    specs = list(specs)
    if not codes:
        return [s for s in specs if s.enabled]
    known = {s.code: s for s in specs}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise AdapterError(f"code(s) d'administration inconnu(s) : {', '.join(unknown)}")
    return [known[c] for c in codes]


def sync_administrations(session: Session, specs: Iterable[AdapterSpec]) -> None:
    """Insert or update each administration's row. One statement, so that processes starting
    together (two workers) do not both insert the same code."""
    rows = [
        {
            "code": spec.code,
            "name": spec.name,
            "kind": spec.kind,
            "department": spec.filed_department,
            "timezone": spec.timezone,
            "engine": spec.engine,
            "enabled": spec.enabled,
        }
        for spec in specs
    ]
    if not rows:
        return
    statement = dialect_insert(session, Administration).values(rows)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["code"],
            set_={key: statement.excluded[key] for key in rows[0] if key != "code"},
        )
    )
