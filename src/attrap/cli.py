"""Command line: parses, calls services, prints. No business logic lives here."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    # Annotations only: each command imports what it runs, so that ``attrap --help`` and the
    # light commands do not load the pipeline, the database layer, procrastinate or the web app.
    from attrap.adapters.maintain import CrawlReport
    from attrap.config import Settings
    from attrap.health import AdministrationHealth
    from attrap.matching.categories import Catalogue
    from attrap.notify.outbox import DispatchReport
    from attrap.pipeline import CrawlOutcome, CrawlProgress
    from attrap.scan import ScanResult
    from attrap.store.db import Database

# Where `attrap run` keeps the details of what went wrong (in the data directory).
LOG_FILE = "attrap.log"
STATE_STYLES = {"ok": "green", "late": "yellow", "silent": "bold yellow", "failing": "bold red"}

# Plain help: typer's rich help imports rich.markdown and markdown-it, which alone take the
# start-up budget of ``attrap --help`` (bench/startup.py).
PLAIN_HELP = None

app = typer.Typer(
    help="Veille des recueils des actes administratifs : drones, VSA et autres surveillances.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=PLAIN_HELP,
)
adapters_app = typer.Typer(
    help="Lister, vérifier et créer les adaptateurs des préfectures.",
    no_args_is_help=True,
    rich_markup_mode=PLAIN_HELP,
)
notify_app = typer.Typer(
    help="Envoyer les notifications.", no_args_is_help=True, rich_markup_mode=PLAIN_HELP
)
db_app = typer.Typer(
    help="Entretien de la base de données.", no_args_is_help=True, rich_markup_mode=PLAIN_HELP
)
app.add_typer(adapters_app, name="adapters")
app.add_typer(notify_app, name="notify")
app.add_typer(db_app, name="db")

console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Fichier de configuration (sinon $ATTRAP_CONFIG, ./attrap.toml)."
    ),
]


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class HitsFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def print_error(message: str) -> None:
    # Messages quote config keys such as [notify.email]: print them as text, not markup.
    errors.print(f"[bold red]erreur :[/] {escape(message)}", highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> NoReturn:
    print_error(message)
    raise typer.Exit(code)


def settings_from(config: Path | None) -> Settings:
    from attrap.config import ConfigError, load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        fail(str(exc))


def database_from(settings: Settings) -> Database:
    """The database, migrated to the current schema, with administrations synced from adapters."""
    from attrap.adapters.registry import AdapterError, load_adapters, sync_administrations
    from attrap.store.db import open_database

    try:
        specs = load_adapters(settings)
    except AdapterError as exc:
        fail(str(exc))
    database = open_database(settings.database.url)
    with database.session() as session:
        sync_administrations(session, specs)
    return database


@app.command()
def run(
    context: typer.Context,
    codes: Annotated[
        list[str] | None, typer.Argument(help="Codes des administrations (toutes si aucun).")
    ] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Ignorer les recueils publiés avant cette date."),
    ] = None,
    no_notify: Annotated[
        bool, typer.Option("--no-notify", help="Enregistrer les détections sans les notifier.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Reparcourir toutes les pages, sans tenir compte des passages précédents.",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Détails (traces) à l'écran, pas seulement dans le journal."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Un passage complet : parcourir, télécharger, détecter.

    Un échec tient en une ligne à l'écran ; ses détails vont dans attrap.log, dans le
    répertoire de données."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from attrap import logs
    from attrap.adapters.engines import get_engine
    from attrap.adapters.registry import AdapterError, load_adapters, select_adapters
    from attrap.matching.categories import catalogue
    from attrap.service import run_pass
    from attrap.store.models import utcnow
    from attrap.store.queries import HitFilter, hit_to_json, search_hits

    settings = settings_from(config)
    logs.apply(logs.LogSetup(verbose, settings.storage.data_dir / LOG_FILE))
    context.call_on_close(logs.remove)
    database = database_from(settings)
    try:
        specs = select_adapters(load_adapters(settings), codes or [])
    except AdapterError as exc:
        fail(str(exc))
    started = utcnow()
    with Progress(
        TextColumn("{task.description:>6}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[found]} trouvés · {task.fields[failed]} échecs"),
        console=console,
    ) as progress:
        outcomes, report = asyncio.run(
            run_pass(
                settings,
                database,
                specs,
                get_engine=get_engine,
                not_before=since.date() if since else None,
                full=full,
                notify=not no_notify,
                progress=CrawlBars(progress).update,
            )
        )
    print_crawl_summary(outcomes)
    with database.session() as session:
        found = [hit_to_json(h) for h in search_hits(session, HitFilter(found_since=started))]
    console.print(f"Nouvelles détections: {len(found)}")
    print_hits_table(found, catalogue(settings))
    if report is not None:
        print_dispatch_report(report)


class CrawlBars:
    """One progress bar per administration: pulsing while discovering, then downloads done."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def update(self, report: CrawlProgress) -> None:
        task = self.tasks.get(report.code)
        if task is None:
            task = self.progress.add_task(report.code, total=None, found=0, failed=0)
            self.tasks[report.code] = task
        # No total (a pulsing bar) until discovery knows how many documents to download.
        discovering = not report.finished and report.to_download == 0
        self.progress.update(
            task,
            total=None if discovering else report.to_download,
            completed=report.downloaded + report.failed,
            found=report.found,
            failed=report.failed,
        )


def print_crawl_summary(outcomes: list[CrawlOutcome]) -> None:
    table = Table(title="Résumé du passage")
    table.add_column("Code")
    for count in ("Trouvés", "Nouveaux", "Téléchargés", "Doublons", "Échecs"):
        table.add_column(count, justify="right")
    table.add_column("Erreur", overflow="fold")
    for o in outcomes:
        table.add_row(
            o.code,
            str(o.found),
            str(o.new),
            str(o.downloaded),
            str(o.duplicates),
            str(o.failed),
            o.error or "",
        )
    console.print(table)
    broken = sum(1 for o in outcomes if o.error)
    console.print(
        f"{len(outcomes)} administrations ({broken} en erreur), "
        f"{sum(o.new for o in outcomes)} nouveaux documents, "
        f"{sum(o.failed for o in outcomes)} téléchargements en échec."
    )


@app.command()
def scan(
    source: Annotated[str, typer.Argument(help="Un fichier PDF ou son URL.")],
    format: Annotated[ListFormat, typer.Option("--format", "-f")] = ListFormat.table,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Par acte : comment il a été trouvé, les signaux et exclusions derrière chaque "
            "score ; les pages écartées (couverture, sommaire) et pourquoi.",
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Lire un recueil : ses actes et ses détections.

    Sans base de données : un fichier PDF ou son URL."""
    from attrap.matching.categories import catalogue
    from attrap.scan import ScanError, scan_to_json
    from attrap.scan import scan as scan_bulletin

    settings = settings_from(config)
    try:
        result = scan_bulletin(source, settings)
    except ScanError as exc:
        fail(str(exc), code=1)
    if format is ListFormat.json:
        print(json.dumps(scan_to_json(result, explain=explain), ensure_ascii=False, indent=2))
    else:
        print_scan_table(result, catalogue(settings))
        if explain:
            print_scan_explanation(result, catalogue(settings))


def print_scan_explanation(result: ScanResult, categories: Catalogue) -> None:
    """What a maintainer reads to understand a miss or a false alarm."""
    console.print("\n[bold]Pages écartées[/]", highlight=False)
    for page in result.set_aside:
        console.print(f"  p. {page.page} : {page.reason}", highlight=False)
    if not result.set_aside:
        console.print("  aucune", highlight=False)
    for scanned in result.acts:
        act = scanned.act
        pages = f"p. {act.page_start}" + (
            f"–{act.page_end}" if act.page_end != act.page_start else ""
        )
        console.print(
            f"\n[bold]{pages} · {act.number or 'sans numéro'} · {act.title or '—'}[/]",
            highlight=False,
        )
        console.print(f"  trouvé par : {act.found_by}", highlight=False)
        shown = [c for c in scanned.explanation if c.signals or c.excluded_by]
        if not shown:
            console.print("  aucun signal", highlight=False)
        for c in shown:
            if c.excluded_by:
                verdict = "écartée"
            elif c.hit is not None:
                verdict = "détection"
            else:
                verdict = "sous le seuil"
            console.print(
                f"  {categories.label(c.category)} ({c.category}) : score {c.score:.2f}, "
                f"seuil {c.min_score:.2f} → {verdict}",
                highlight=False,
            )
            for f in c.signals:
                cited = ", dans un « Vu »" if f.cited else ""
                console.print(
                    f"    {f.weight:+.2f}  {f.signal} : « {f.term} » (p. {f.page}{cited})",
                    highlight=False,
                )
            for name in c.excluded_by:
                console.print(f"    exclusion : {name}", highlight=False)


def print_scan_table(result: ScanResult, categories: Catalogue) -> None:
    table = Table(title="Actes du bulletin")
    table.add_column("Pages", no_wrap=True)
    # Act numbers are what people quote when they contest an order: never cut them.
    table.add_column("Numéro, signé le", no_wrap=True)
    table.add_column("Acte")
    table.add_column("Détections")
    for scanned in result.acts:
        act = scanned.act
        pages = str(act.page_start)
        if act.page_end != act.page_start:
            pages += f"–{act.page_end}"
        found = "\n".join(
            f"{categories.label(h.category)}\n  p.{h.page}, score {h.score:.2f}"
            for h in scanned.hits
        )
        table.add_row(
            pages,
            f"{act.number or '—'}\n{act.signed_on.strftime('%d/%m/%Y') if act.signed_on else '—'}",
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
        errors.print(f"[yellow]attention :[/] {warning}", highlight=False)


@app.command()
def hits(
    department: Annotated[
        str | None, typer.Option(help="Code du département, par ex. 13, 2A, 974.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="drone, vsa, videoprotection, …")] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    query: Annotated[
        str | None, typer.Option(help="Texte cherché dans les titres et les extraits des actes.")
    ] = None,
    active_on: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Arrêtés en vigueur ce jour-là (heure locale)."),
    ] = None,
    late: Annotated[
        bool | None,
        typer.Option("--late/--not-late", help="Publiés après (avant) le début de l'arrêté."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    format: Annotated[HitsFormat, typer.Option("--format", "-f")] = HitsFormat.table,
    config: ConfigOption = None,
) -> None:
    """Chercher les détections enregistrées.

    Les plus récentes d'abord."""
    from attrap.matching.categories import catalogue
    from attrap.store.queries import HitFilter, hit_to_json, search_hits

    settings = settings_from(config)
    database = database_from(settings)
    day = active_on.date() if active_on else None
    hit_filter = HitFilter(
        department=department,
        category=category,
        since=since.date() if since else None,
        until=until.date() if until else None,
        query=query,
        active_from=day,
        active_until=day,
        late=late,
        limit=limit,
    )
    with database.session() as session:
        found = [hit_to_json(h) for h in search_hits(session, hit_filter)]
    if format is HitsFormat.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    elif format is HitsFormat.csv:
        write_hits_csv(found)
    else:
        print_hits_table(found, catalogue(settings))


@app.command()
def categories(config: ConfigOption = None) -> None:
    """Les catégories de détection.

    Leur libellé, leur mot-dièse, et si elles sont notifiées par défaut."""
    from attrap.matching.categories import catalogue
    from attrap.matching.rules import RulesError

    try:
        known = catalogue(settings_from(config))
    except RulesError as exc:
        fail(str(exc), code=1)
    table = Table(title="Catégories")
    table.add_column("Identifiant", no_wrap=True)
    table.add_column("Nom")
    table.add_column("Mot-dièse")
    table.add_column("Notifiée par défaut")
    for category in map(known.get, known.ids):
        table.add_row(
            category.id,
            f"{category.label}\n{category.description}" if category.description else category.label,
            category.hashtag,
            "oui" if category.notify else "non",
        )
    console.print(table)


def write_hits_csv(found: list[dict[str, Any]]) -> None:
    import csv

    from attrap.store.queries import HIT_CSV_FIELDS, hit_csv_row

    writer = csv.DictWriter(sys.stdout, fieldnames=HIT_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(hit_csv_row(h) for h in found)


def print_hits_table(found: list[dict[str, Any]], categories: Catalogue) -> None:
    from attrap.facts.wording import facts_line
    from attrap.store.queries import hit_csv_row

    if not found:
        console.print("Aucun résultat.")
        return
    table = Table(show_lines=True)
    table.add_column("Dépt", no_wrap=True)
    table.add_column("Catégorie", overflow="fold")
    table.add_column("Date", no_wrap=True)
    # Number, title and link together, folded rather than cut: a truncated link is useless.
    table.add_column("Acte et lien vers le PDF", overflow="fold")
    for hit, facts in ((hit_csv_row(h), h["facts"]) for h in found):
        act = Text(f"{hit['act_number']}\n" if hit["act_number"] else "", style="bold")
        act.append(f"{hit['act_title']}\n")
        if line := facts_line(facts):
            act.append(f"{line}\n", style="italic")
        act.append(str(hit["link"]), style=f"link {hit['link']}")
        table.add_row(
            str(hit["department"] or "—"),
            categories.label(str(hit["category"])),
            str(hit["signed_on"] or "—"),
            act,
        )
    console.print(table)


@app.command()
def reprocess(
    codes: Annotated[list[str] | None, typer.Argument(help="Codes des administrations.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Tous les documents enregistrés.")] = False,
    no_notify: Annotated[
        bool,
        typer.Option("--no-notify", help="Enregistrer les nouvelles détections sans les notifier."),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Réappliquer les règles au texte enregistré.

    Redécoupe les actes et réapplique les règles après un changement de règles (sans réseau)."""
    from attrap.matching.rules import RulesError
    from attrap.pipeline import reprocess as reprocess_documents
    from attrap.service import outbox_hook

    if bool(codes) == all_:
        fail("donnez des codes d'administration ou --all (pas les deux).")
    settings = settings_from(config)
    try:
        summary = reprocess_documents(
            database_from(settings),
            settings,
            None if all_ else codes,
            on_new_hits=outbox_hook(settings, notify=not no_notify),
        )
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
    """Lister les adaptateurs (et les inscrire en base)."""
    from attrap.adapters.registry import load_adapters

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


SitesOption = Annotated[
    Path, typer.Option("--sites", help="Le dossier des sites enregistrés (un dossier par code).")
]


@adapters_app.command("check")
def adapters_check(
    code: str,
    fixtures: Annotated[
        Path | None, typer.Option(help="Servir le site depuis des pages enregistrées.")
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Enregistrer chaque page du site réel, et les recueils trouvés, sous SITES/CODE/.",
        ),
    ] = False,
    sites: SitesOption = Path("fixtures/sites"),
    config: ConfigOption = None,
) -> None:
    """Parcourir une administration et afficher ses recueils.

    Les plus récents d'abord, puis la structure du site que le moteur a détectée."""
    import asyncio

    from attrap.adapters.fixtures import FixtureError, RecordingError
    from attrap.adapters.maintain import check_adapter
    from attrap.adapters.registry import AdapterError
    from attrap.http import HttpClient

    settings = settings_from(config)
    if record and fixtures is not None:
        fail("--record enregistre le site réel : il ne va pas avec --fixtures")
    try:
        report = asyncio.run(
            check_adapter(
                settings, code, fixtures, live=HttpClient, record=sites if record else None
            )
        )
    except (AdapterError, FixtureError) as exc:
        fail(str(exc))
    except RecordingError as exc:
        fail(f"enregistrement impossible : {exc}")
    if record and report.unanswered:
        fail(f"{unanswered(report.error)} ; rien n'est enregistré", 1)
    print_report(code, report)
    if record:
        print_recording(report)
    if not report.ok:
        raise typer.Exit(1)


def unanswered(error: Exception | None) -> str:
    """Why a site gave no page: it did not answer, or it refused the start page."""
    if getattr(error, "status", None) is not None:
        return f"le site refuse la page de départ : {error}"
    return f"le site ne répond pas : {error}"


def print_report(code: str, report: CrawlReport) -> None:
    """The bulletins a crawl found, the structure the engine detected, the crawl's error."""
    from attrap.adapters.maintain import pin_lines, structure_lines

    table = Table("Date", "Titre", title=f"Bulletins trouvés pour {code}")
    table.add_column("URL", overflow="fold")
    for ref in report.refs:
        date = ref.published_on.isoformat() if ref.published_on else "—"
        table.add_row(date, ref.title, ref.url)
    if report.refs:
        console.print(table)
    pages = f" ({report.pages} pages lues)" if report.pages is not None else ""
    console.print(f"{len(report.refs)} bulletin(s) trouvé(s){pages}.", highlight=False)
    if report.structure is not None:
        console.print("Structure détectée :", highlight=False)
        for line in structure_lines(report.structure):
            console.print(f"  {line}", highlight=False, markup=False)
        pins = pin_lines(report.structure) if report.ok else []
        if pins:
            console.print(
                f"Pour la figer, dans le fichier de l'adaptateur {code} :", highlight=False
            )
            for line in pins:
                console.print(f"  {line}", highlight=False, markup=False)
    if report.error is not None:
        errors.print(
            f"[bold red]erreur :[/] {escape(str(report.error))}", highlight=False, soft_wrap=True
        )


def print_recording(report: CrawlReport) -> None:
    if report.recorded is not None:
        console.print(
            f"Enregistré : {report.recorded} ({report.pages} pages, {len(report.refs)} "
            f"bulletin(s)) ; à relire avec git diff {report.recorded}",
            highlight=False,
            soft_wrap=True,
        )
        return
    why = "la visite s'est arrêtée sur une erreur" if report.error else "aucun bulletin trouvé"
    errors.print(
        f"[bold red]erreur :[/] enregistrement non écrit : {why}", highlight=False, soft_wrap=True
    )


@adapters_app.command("new")
def adapters_new(
    code: str,
    url: str,
    no_record: Annotated[
        bool,
        typer.Option(
            "--no-record", help="Écrire seulement le fichier de l'adaptateur, sans visiter le site."
        ),
    ] = False,
    sites: SitesOption = Path("fixtures/sites"),
    config: ConfigOption = None,
) -> None:
    """Créer un adaptateur et enregistrer le site.

    Ses pages et les recueils trouvés : les données que vérifie
    tests/adapters/test_recorded_sites.py."""
    import asyncio

    from attrap.adapters.fixtures import RecordingError
    from attrap.adapters.maintain import new_adapter
    from attrap.adapters.registry import AdapterError
    from attrap.http import HttpClient

    settings = settings_from(config)
    folder = next(iter(settings.adapters.paths), Path("prefectures"))
    try:
        done = asyncio.run(
            new_adapter(settings, code, url, folder, sites, HttpClient, record=not no_record)
        )
    except AdapterError as exc:
        fail(str(exc))
    except RecordingError as exc:
        fail(f"enregistrement impossible : {exc}")
    report = done.report
    if done.adapter is None:
        fail(f"{unanswered(report.error if report else None)} ; rien n'est écrit", 1)
    console.print(f"Écrit : {done.adapter}", highlight=False, soft_wrap=True)
    if report is None:
        console.print(
            f"À faire : enregistrer le site avec « attrap adapters check {code} --record ».",
            highlight=False,
        )
        return
    print_report(code, report)
    print_recording(report)
    if not report.ok:
        console.print(
            f"À faire : régler le tableau [dsfr] de {done.adapter} (README, « Adapters »), puis "
            f"« attrap adapters check {code} --record ».",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(1)


@notify_app.command("test")
def notify_test(
    channel: Annotated[str, typer.Argument(help="mastodon, email ou webhook.")],
    config: ConfigOption = None,
) -> None:
    """Envoyer une notification d'exemple sur un canal.

    Rien n'est enregistré."""
    from attrap.notify.channel import ChannelConfigError, DeliveryError
    from attrap.notify.outbox import send_test

    settings = settings_from(config)
    try:
        receipt = send_test(settings, channel)
    except ChannelConfigError as exc:
        fail(str(exc))
    except DeliveryError as exc:
        fail(f"{channel}: {exc}", code=1)
    console.print(f"Message de test envoyé ({channel}) : {receipt.remote_id}", highlight=False)


@notify_app.command("dispatch")
def notify_dispatch(config: ConfigOption = None) -> None:
    """Envoyer les notifications dues."""
    from attrap.notify.outbox import dispatch

    settings = settings_from(config)
    print_dispatch_report(dispatch(database_from(settings), settings))


@notify_app.command("retry")
def notify_retry(
    channel: Annotated[
        str | None, typer.Argument(help="mastodon, email ou webhook (tous si aucun).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Remettre en file les notifications en échec.

    Avec de nouvelles tentatives."""
    from attrap.notify.outbox import requeue_failed

    settings = settings_from(config)
    with database_from(settings).session() as session:
        count = requeue_failed(session, channel)
    console.print(
        f"{count} notification(s) remise(s) en file; 'attrap notify dispatch' les envoie."
    )


def print_dispatch_report(report: DispatchReport) -> None:
    if not report.channels:
        console.print("Aucun canal de notification configuré.")
        return
    table = Table("Canal", "Envoyées", "Messages", "À réessayer", "Reportées", "Échecs", "Erreurs")
    for name, channel in report.channels.items():
        table.add_row(
            name,
            str(channel.sent),
            str(channel.messages),
            str(channel.retrying),
            str(channel.deferred),
            str(channel.failed),
            escape("\n".join(channel.errors)),
        )
    console.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    config: ConfigOption = None,
) -> None:
    """Servir la page web, l'API JSON et les flux Atom.

    En lecture seule."""
    # Imported here: the web stack is heavy and no other command needs it.
    import uvicorn

    from attrap.web.app import create_app

    settings = settings_from(config)
    database = database_from(settings)
    host = host or settings.web.host
    port = port or settings.web.port
    errors.print(f"attrap sur http://{host}:{port}/", highlight=False)
    application = create_app(database, cache_seconds=settings.web.cache_seconds)
    uvicorn.run(application, host=host, port=port, log_level="info")


def log_to_stderr() -> None:
    """One line per event. Under systemd (``JOURNAL_STREAM`` set) the journal stamps each line
    itself, so only the level and the source are written."""
    import logging

    stamped = "" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s "
    logging.basicConfig(level=logging.INFO, format=f"{stamped}%(levelname)s %(name)s: %(message)s")
    # A line per HTTP request would drown the events (crawls, incidents, documents taken up).
    logging.getLogger("httpx").setLevel(logging.WARNING)


@app.command()
def daemon(config: ConfigOption = None) -> None:
    """Surveiller les administrations, sans fin.

    Chacune selon son calendrier."""
    import asyncio

    from attrap.adapters.engines import get_engine
    from attrap.adapters.registry import load_adapters, select_adapters
    from attrap.scheduling.daemon import run_daemon

    settings = settings_from(config)
    database = database_from(settings)
    specs = select_adapters(load_adapters(settings), [])
    log_to_stderr()
    asyncio.run(run_daemon(settings, database, specs, get_engine=get_engine))


@app.command()
def worker(
    queues: Annotated[
        str | None,
        typer.Option(
            help="Files à traiter, séparées par des virgules : crawl, documents, default "
            "(toutes si aucune)."
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            min=1, help="Tâches menées en même temps (parcours ; les documents passent un par un)."
        ),
    ] = 1,
    config: ConfigOption = None,
) -> None:
    """Traiter les tâches en file (PostgreSQL).

    Parcours et documents, sur une ou plusieurs machines."""
    import asyncio

    from attrap.adapters.engines import get_engine

    try:
        from attrap.scheduling.worker import (
            WorkerConfigError,
            parse_queues,
            postgres_conninfo,
            run_worker,
        )
    except ImportError as exc:
        fail(f"le worker demande PostgreSQL ({exc.name} manque) : pip install 'attrap[postgres]'")

    settings = settings_from(config)
    try:
        postgres_conninfo(settings.database.url)
        names = parse_queues(queues)
    except WorkerConfigError as exc:
        fail(str(exc))
    database = database_from(settings)
    log_to_stderr()
    asyncio.run(
        run_worker(settings, database, get_engine=get_engine, queues=names, concurrency=concurrency)
    )


@app.command("status")
def status_command(config: ConfigOption = None) -> None:
    """Documents, détections, notifications et santé.

    L'état de chaque administration."""
    from attrap.health import health_table
    from attrap.store.queries import failed_notifications, status

    database = database_from(settings_from(config))
    with database.session() as session:
        report = status(session)
        failed = failed_notifications(session)
        rows = health_table(session)
    summary = Table("Élément", "État", "Nombre", title="État de la base")
    for state, count in sorted(report.documents.items()):
        summary.add_row("documents", state, str(count))
    for category, count in sorted(report.hits.items()):
        summary.add_row("détections", category, str(count))
    for channel, states in sorted(report.notifications.items()):
        for state, count in sorted(states.items()):
            summary.add_row(f"notifications {channel}", state, str(count))
    console.print(summary)
    if failed:
        table = Table(
            "Canal",
            "Détection",
            "Tentatives",
            "Acte",
            "Dernière erreur",
            title="Notifications en échec",
        )
        for f in failed:
            table.add_row(
                f.channel,
                str(f.hit_id),
                str(f.attempts),
                escape(f.act_title),
                escape(f.last_error or ""),
            )
        console.print(table)
    print_health_table(rows)


def print_health_table(rows: list[AdministrationHealth]) -> None:
    from attrap.health import STATE_LABELS, STATE_ORDER

    table = Table(
        "Code",
        "État",
        "Dernier succès",
        "Dernière erreur",
        "Documents",
        "Détections",
        "Notif. en attente",
        "Notif. en échec",
        title="Santé des administrations",
    )
    for row in rows:
        state = Text(STATE_LABELS[row.state], style=STATE_STYLES[row.state])
        for problem in row.problems:
            state.append(f"\n{problem}", style="default")
        error = ""
        if row.last_error and row.last_error_at:
            error = f"{row.last_error_at:%Y-%m-%d %H:%M} {row.last_error}"
        table.add_row(
            row.code,
            state,
            f"{row.last_success:%Y-%m-%d %H:%M}" if row.last_success else "—",
            escape(error),
            str(row.documents),
            str(row.hits),
            str(row.pending_notifications),
            str(row.failed_notifications),
        )
    console.print(table)
    counts = Counter(row.state for row in rows)
    console.print(
        ", ".join(f"{counts[state]} {STATE_LABELS[state]}" for state in reversed(STATE_ORDER)),
        highlight=False,
    )


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Appliquer les migrations de base de données en attente."""
    settings = settings_from(config)
    database_from(settings)
    console.print(f"Base à jour: {settings.database.url}", highlight=False)


# Typer's usage errors as it words them (in English), and in French, as the tool's own errors.
USAGE_ERRORS = [
    (
        re.compile(r"No such option: (\S+) \(Possible options: (.+)\)"),
        "option inconnue : {} (options possibles : {})",
    ),
    (re.compile(r"No such option: (\S+)"), "option inconnue : {}"),
    (re.compile(r"No such command '(.+)'\."), "commande inconnue : {}"),
    (re.compile(r"Missing command\."), "commande manquante"),
    (re.compile(r"Missing argument '(.+?)'\.(.*)"), "argument manquant : {}"),
    (re.compile(r"Missing option '(.+?)'\.(.*)"), "option manquante : {}"),
    (re.compile(r"Invalid value for (.+?): (.*)"), "valeur invalide pour {} : {}"),
    (re.compile(r"Got unexpected extra argument\(s\) \((.*)\)"), "argument(s) en trop : {}"),
    (re.compile(r"Option '(.+)' requires an argument\."), "l'option {} demande une valeur"),
    (re.compile(r"Option '(.+)' does not take a value\."), "l'option {} ne prend pas de valeur"),
]


def french_usage_error(message: str) -> str:
    for pattern, wording in USAGE_ERRORS:
        if match := pattern.fullmatch(message):
            return wording.format(*match.groups())
    return message


def main() -> None:
    """The ``attrap`` command: typer's usage errors worded like the tool's own, « erreur : … »
    in French (typer prints them in English after its own « Error: »)."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # usage errors (typer's vendored click)
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help, for a group without command
            errors.print(exc.format_message(), highlight=False, markup=False)
            sys.exit(2)
        context = getattr(exc, "ctx", None)
        if context is not None:
            usage = context.get_usage().replace("Usage:", "Utilisation :", 1)
            errors.print(usage, highlight=False, markup=False)
            errors.print(f"Aide : {context.command_path} --help", highlight=False, markup=False)
        print_error(french_usage_error(exc.format_message()))
        sys.exit(getattr(exc, "exit_code", 2))
    except typer.Abort:
        errors.print("Interrompu.", highlight=False)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
