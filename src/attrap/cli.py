"""Command line: parses, calls services, prints. No business logic lives here."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from attrap.adapters.registry import AdapterError, load_adapters, sync_administrations
from attrap.config import ConfigError, Settings, load_settings
from attrap.matching.rules import RulesError
from attrap.pipeline import reprocess as reprocess_documents
from attrap.scan import ScanError, ScanResult, scan_to_json
from attrap.scan import scan as scan_bulletin
from attrap.store.db import Database, open_database
from attrap.store.queries import (
    HIT_CSV_FIELDS,
    HitFilter,
    hit_csv_row,
    hit_to_json,
    search_hits,
    status,
)

app = typer.Typer(
    help="Veille des recueils des actes administratifs: drones, VSA et autres surveillances.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
adapters_app = typer.Typer(help="List, check and create prefecture adapters.", no_args_is_help=True)
notify_app = typer.Typer(help="Deliver notifications.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(adapters_app, name="adapters")
app.add_typer(notify_app, name="notify")
app.add_typer(db_app, name="db")

console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Configuration file (else $ATTRAP_CONFIG, ./attrap.toml)."),
]


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class HitsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str, code: int = 2) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_from(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))


def database_from(settings: Settings) -> Database:
    """The database, migrated to the current schema, with administrations synced from adapters."""
    try:
        specs = load_adapters(settings)
    except AdapterError as exc:
        fail(str(exc))
    database = open_database(settings.database.url)
    with database.session() as session:
        sync_administrations(session, specs)
    return database


def not_yet(command: str, issue: int) -> NoReturn:
    fail(f"'attrap {command}' is not available yet (planned in issue #{issue}).")


@app.command()
def run(
    codes: Annotated[
        list[str] | None, typer.Argument(help="Administration codes (all if none).")
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Ignore bulletins published before this date."),
    ] = None,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="Store hits without notifying them.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Crawl, download, extract and match: one full pass."""
    settings_from(config)
    not_yet("run", 3)


@app.command()
def scan(
    source: Annotated[str, typer.Argument(help="A PDF file or its URL.")],
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
    config: ConfigOption = None,
) -> None:
    """Find the acts and hits of one bulletin, without a database."""
    settings = settings_from(config)
    try:
        result = scan_bulletin(source, settings)
    except ScanError as exc:
        fail(str(exc), code=1)
    if format is ListFormat.json:
        print(json.dumps(scan_to_json(result), ensure_ascii=False, indent=2))
    else:
        print_scan_table(result)


def print_scan_table(result: ScanResult) -> None:
    table = Table("Pages", "Numéro", "Signé le", "Acte", "Détections", title="Actes du bulletin")
    for scanned in result.acts:
        act = scanned.act
        pages = str(act.page_start)
        if act.page_end != act.page_start:
            pages += f"–{act.page_end}"
        found = "\n".join(f"{h.category} ({h.score:.2f}, p. {h.page})" for h in scanned.hits)
        table.add_row(
            pages,
            act.number or "—",
            act.signed_on.strftime("%d/%m/%Y") if act.signed_on else "—",
            act.title or "—",
            found or "—",
        )
    console.print(table)
    hits = sum(len(scanned.hits) for scanned in result.acts)
    console.print(
        f"{result.pages} pages (dont {result.ocr_pages} lues par OCR), "
        f"{len(result.acts)} actes, {hits} détections.",
        highlight=False,
    )
    for warning in result.warnings:
        errors.print(f"[yellow]attention:[/] {warning}", highlight=False)


@app.command()
def hits(
    department: Annotated[
        str | None, typer.Option(help="Département code, e.g. 13, 2A, 974.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="drone, vsa, videoprotection, …")] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    query: Annotated[
        str | None, typer.Option(help="Text searched in act titles and snippets.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    format: Annotated[HitsFormat, typer.Option("--format", "-f")] = HitsFormat.table,
    config: ConfigOption = None,
) -> None:
    """Search stored hits, newest first."""
    database = database_from(settings_from(config))
    hit_filter = HitFilter(
        department=department,
        category=category,
        since=since.date() if since else None,
        until=until.date() if until else None,
        query=query,
        limit=limit,
    )
    with database.session() as session:
        found = [hit_to_json(h) for h in search_hits(session, hit_filter)]
    if format is HitsFormat.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    elif format is HitsFormat.csv:
        write_hits_csv(found)
    else:
        print_hits_table(found)


def write_hits_csv(found: list[dict[str, Any]]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=HIT_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(hit_csv_row(h) for h in found)


def print_hits_table(found: list[dict[str, Any]]) -> None:
    if not found:
        console.print("Aucun résultat.")
        return
    table = Table("Dépt", "Catégorie", "Date", "Acte", "Lien")
    for hit in map(hit_csv_row, found):
        table.add_row(
            str(hit["department"] or "—"),
            str(hit["category"]),
            str(hit["signed_on"] or "—"),
            f"{hit['act_number'] or ''} {hit['act_title']}".strip(),
            str(hit["link"]),
        )
    console.print(table)


@app.command()
def reprocess(
    codes: Annotated[list[str] | None, typer.Argument(help="Administration codes.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every stored document.")] = False,
    config: ConfigOption = None,
) -> None:
    """Re-segment and re-match stored text after a rules change (no network)."""
    if bool(codes) == all_:
        fail("give administration codes or --all (not both).")
    settings = settings_from(config)
    try:
        summary = reprocess_documents(database_from(settings), settings, None if all_ else codes)
    except RulesError as exc:
        fail(str(exc))
    table = Table("Documents", "Échecs", "Actes", "Détections gardées", "Nouvelles", "Retirées")
    table.add_row(
        str(summary.documents),
        str(summary.failed),
        str(summary.acts),
        str(summary.kept_hits),
        str(len(summary.new_hit_ids)),
        str(summary.removed_hits),
    )
    console.print(table)


@adapters_app.command("list")
def adapters_list(
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
    config: ConfigOption = None,
) -> None:
    """List the adapters (and sync them into the database)."""
    settings = settings_from(config)
    database_from(settings)
    specs = load_adapters(settings)
    if format is ListFormat.json:
        rows = [
            {
                "code": s.code,
                "name": s.name,
                "kind": s.kind,
                "department": s.filed_department,
                "engine": s.engine,
                "enabled": s.enabled,
                "start_urls": s.start_urls,
                "file": str(s.source),
            }
            for s in specs
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("Code", "Nom", "Moteur", "Actif", "URL de départ")
    for s in specs:
        table.add_row(s.code, s.name, s.engine, "oui" if s.enabled else "non", s.start_urls[0])
    console.print(table)
    console.print(f"{len(specs)} administrations.")


@adapters_app.command("check")
def adapters_check(
    code: str,
    fixtures: Annotated[Path | None, typer.Option(help="Serve the site from saved HTML.")] = None,
    config: ConfigOption = None,
) -> None:
    """Crawl one administration and print what it finds, newest first."""
    settings_from(config)
    not_yet("adapters check", 3)


@adapters_app.command("new")
def adapters_new(code: str, url: str, config: ConfigOption = None) -> None:
    """Write a new adapter file and a fixture test to fill in."""
    settings_from(config)
    not_yet("adapters new", 3)


@notify_app.command("test")
def notify_test(channel: str, config: ConfigOption = None) -> None:
    """Send a sample notification on one channel."""
    settings_from(config)
    not_yet("notify test", 5)


@notify_app.command("dispatch")
def notify_dispatch(config: ConfigOption = None) -> None:
    """Deliver the notifications that are due."""
    settings_from(config)
    not_yet("notify dispatch", 5)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the read-only web page, JSON API and Atom feeds."""
    settings_from(config)
    not_yet("serve", 6)


@app.command()
def daemon(config: ConfigOption = None) -> None:
    """Run every administration on a schedule, forever."""
    settings_from(config)
    not_yet("daemon", 3)


@app.command()
def worker(config: ConfigOption = None) -> None:
    """Process queued crawl and document tasks (PostgreSQL, many machines)."""
    settings_from(config)
    not_yet("worker", 3)


@app.command("status")
def status_command(config: ConfigOption = None) -> None:
    """Show documents, hits, notifications and the last crawl of each administration."""
    database = database_from(settings_from(config))
    with database.session() as session:
        report = status(session)
    summary = Table("Élément", "État", "Nombre", title="État de la base")
    for state, count in sorted(report.documents.items()):
        summary.add_row("documents", state, str(count))
    for category, count in sorted(report.hits.items()):
        summary.add_row("détections", category, str(count))
    for channel, states in sorted(report.notifications.items()):
        for state, count in sorted(states.items()):
            summary.add_row(f"notifications {channel}", state, str(count))
    console.print(summary)
    runs = Table("Code", "Dernier passage", "Trouvés", "Nouveaux", "Échecs", "Erreur")
    for r in report.last_runs:
        runs.add_row(
            r.administration_code,
            r.started_at.strftime("%Y-%m-%d %H:%M"),
            str(r.found),
            str(r.new),
            str(r.failed),
            r.error or "",
        )
    console.print(runs if report.last_runs else "Aucun passage enregistré.")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply pending database migrations."""
    settings = settings_from(config)
    database_from(settings)
    console.print(f"Base à jour: {settings.database.url}", highlight=False)


if __name__ == "__main__":
    app()
