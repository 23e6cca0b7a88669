"""Generated, realistic-looking hits: for tests, benchmarks and screenshots of the read side.

The wording follows the orders described in LEGAL.md; the volumes lean towards the large
départements and towards vidéoprotection, as real bulletins do. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from attrap.store.models import (
    Act,
    ActFacts,
    ActPeriod,
    Administration,
    CrawlRun,
    Document,
    DocumentStatus,
    Hit,
)

CITIES = {
    "06": "Nice",
    "13": "Marseille",
    "31": "Toulouse",
    "33": "Bordeaux",
    "34": "Montpellier",
    "35": "Rennes",
    "44": "Nantes",
    "59": "Lille",
    "67": "Strasbourg",
    "69": "Lyon",
    "75": "Paris",
    "76": "Rouen",
    "93": "Saint-Denis",
    "974": "Saint-Denis de La Réunion",
}
INSEE = {
    "Nice": "06088",
    "Marseille": "13055",
    "Toulouse": "31555",
    "Bordeaux": "33063",
    "Montpellier": "34172",
    "Rennes": "35238",
    "Nantes": "44109",
    "Lille": "59350",
    "Strasbourg": "67482",
    "Lyon": "69123",
    "Paris": "75056",
    "Rouen": "76540",
    "Saint-Denis": "93066",
    "Saint-Denis de La Réunion": "97411",
}
# Orders whose facts are generated, and how late they are published: hours between the bulletin
# going online and the authorisation's start (negative: after it began).
FACTS_CATEGORIES = {"drone", "vsa", "perimetre-protection"}
LEAD_HOURS = [(-8, -1), (1, 23), (24, 96)]
LEAD_WEIGHTS = [2, 4, 4]
# Commune names found in many départements, for the others.
COMMON_COMMUNE_NAMES = ["Villeneuve", "Saint-Martin", "Montigny", "Beaumont", "Fontaine"]
# Heavier weights where real bulletins carry more of these orders.
DEPARTMENT_WEIGHTS = {"75": 12, "13": 10, "69": 8, "59": 7, "06": 6, "33": 5, "31": 5, "93": 5}
EVENTS = [
    "de la manifestation déclarée du 1er mai",
    "du marché de Noël",
    "du match de football au stade municipal",
    "du festival de musique",
    "du rassemblement sur la voie publique",
    "de la fête nationale du 14 juillet",
    "du passage du Tour de France",
    "du concert en plein air",
]
PLACES = ["bureau de tabac", "agence bancaire", "pharmacie", "supermarché", "hôtel de ville"]


@dataclass(frozen=True)
class Wording:
    weight: int
    title: str
    snippet: str
    terms: tuple[str, ...]


CATEGORIES = {
    "drone": Wording(
        25,
        "Arrêté autorisant la captation, l'enregistrement et la transmission d'images au moyen "
        "de caméras installées sur des aéronefs à l'occasion {event} à {city}",
        "… autorise la captation, l'enregistrement et la transmission d'images au moyen de "
        "caméras installées sur des aéronefs, en application de l'article L. 242-5 du code de la "
        "sécurité intérieure, dans le périmètre de {city}, de 10 h à 20 h …",
        ("caméras installées sur des aéronefs", "L. 242-5"),
    ),
    "vsa": Wording(
        8,
        "Arrêté autorisant l'emploi de traitements algorithmiques sur les images collectées au "
        "moyen de systèmes de vidéoprotection à l'occasion {event} à {city}",
        "… l'emploi de traitements algorithmiques sur les images collectées au moyen de systèmes "
        "de vidéoprotection, pour la détection d'événements prédéterminés, en application de "
        "l'article 10 de la loi n° 2023-380 du 19 mai 2023 …",
        ("traitements algorithmiques", "loi n° 2023-380"),
    ),
    "videoprotection": Wording(
        45,
        "Arrêté portant autorisation d'un système de vidéoprotection — {place}, {city}",
        "… est autorisé à installer un système de vidéoprotection comportant 4 caméras "
        "intérieures et 1 caméra extérieure, conformément aux articles L. 251-1 et suivants du "
        "code de la sécurité intérieure …",
        ("système de vidéoprotection", "L. 251-1"),
    ),
    "cameras-individuelles": Wording(
        12,
        "Arrêté autorisant l'enregistrement audiovisuel des interventions des agents de police "
        "municipale de {city} au moyen de caméras individuelles",
        "… l'enregistrement audiovisuel des interventions des agents de police municipale au "
        "moyen de caméras individuelles, prévu à l'article L. 241-2 du code de la sécurité "
        "intérieure …",
        ("caméras individuelles", "L. 241-2"),
    ),
    "perimetre-protection": Wording(
        10,
        "Arrêté portant institution d'un périmètre de protection à l'occasion {event} à {city}",
        "… il est institué un périmètre de protection au sein duquel l'accès et la circulation "
        "des personnes sont réglementés, en application de l'article L. 226-1 du code de la "
        "sécurité intérieure …",
        ("périmètre de protection", "L. 226-1"),
    ),
}


@dataclass(frozen=True)
class SampleHit:
    administration_code: str
    department: str
    category: str
    act_number: str
    title: str
    snippet: str
    terms: list[str]
    signed_on: dt.date
    published_on: dt.date
    first_seen_at: dt.datetime
    page: int
    city: str
    # The authorisation's start and end (UTC) and its maximum number of cameras, for the
    # categories that have facts.
    period: tuple[dt.datetime, dt.datetime] | None
    max_cameras: int | None


def sample_hits(
    departments: dict[str, str],
    count: int,
    *,
    seed: int = 0,
    today: dt.date | None = None,
    days: int = 730,
) -> Iterator[SampleHit]:
    """``count`` hits spread over the ``days`` before ``today``, newest last.

    ``departments`` maps administration codes to the département they are filed under."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    codes = list(departments)
    code_weights = [DEPARTMENT_WEIGHTS.get(departments[c], 1) for c in codes]
    categories = list(CATEGORIES)
    category_weights = [CATEGORIES[c].weight for c in categories]
    for index in range(count):
        code = rng.choices(codes, code_weights)[0]
        department = departments[code]
        category = rng.choices(categories, category_weights)[0]
        wording = CATEGORIES[category]
        published_on = today - dt.timedelta(days=days - 1 - index * days // max(count, 1))
        signed_on = published_on - dt.timedelta(days=rng.randint(0, 10))
        city = CITIES.get(department) or rng.choice(COMMON_COMMUNE_NAMES)
        fields = {"event": rng.choice(EVENTS), "city": city, "place": rng.choice(PLACES)}
        seen = dt.datetime.combine(published_on, dt.time(6), dt.UTC) + dt.timedelta(
            hours=rng.randint(0, 40), minutes=rng.randint(0, 59)
        )
        period = None
        if category in FACTS_CATEGORIES:
            low, high = rng.choices(LEAD_HOURS, LEAD_WEIGHTS)[0]
            start = seen + dt.timedelta(hours=rng.randint(low, high))
            start = start.replace(minute=0)
            period = (start, start + dt.timedelta(hours=rng.choice([4, 8, 12, 14, 36])))
        yield SampleHit(
            administration_code=code,
            department=department,
            category=category,
            act_number=f"{department}-{signed_on:%Y-%m-%d}-{index % 100000:05d}",
            title=wording.title.format(**fields),
            snippet=wording.snippet.format(**fields),
            terms=list(wording.terms),
            signed_on=signed_on,
            published_on=published_on,
            first_seen_at=seen,
            page=rng.randint(2, 180),
            city=city,
            period=period,
            max_cameras=rng.randint(1, 6) if category == "drone" else None,
        )


def filed_administrations(session: Session) -> tuple[dict[str, str], dict[str, ZoneInfo]]:
    """The administrations filed under a département: their département and their time zone,
    by code — what sample hits are spread over."""
    rows = session.execute(
        select(Administration.code, Administration.department, Administration.timezone).where(
            Administration.department.is_not(None)
        )
    ).all()
    return (
        {code: department for code, department, _ in rows},
        {code: ZoneInfo(timezone) for code, _, timezone in rows},
    )


def add_sample_hits(
    session: Session, count: int, *, seed: int = 0, today: dt.date | None = None
) -> int:
    """Store ``count`` sample hits, one bulletin each, for the administrations already in the
    database that are filed under a département. Returns how many were added."""
    departments, zones = filed_administrations(session)
    if not departments:
        raise ValueError("no administration filed under a département: sync the adapters first")
    offset = session.scalar(select(func.count(Document.id))) or 0
    for number, sample in enumerate(sample_hits(departments, count, seed=seed, today=today)):
        document = Document(
            administration_code=sample.administration_code,
            url=f"https://raa.example.gouv.fr/{sample.administration_code}/"
            f"RAA-{sample.published_on:%Y-%m-%d}-{offset + number}.pdf",
            title=f"Recueil des actes administratifs du {sample.published_on:%d/%m/%Y}",
            published_on=sample.published_on,
            sha256=f"{offset + number:064x}",
            status=DocumentStatus.MATCHED,
            first_seen_at=sample.first_seen_at,
        )
        act = Act(
            document=document,
            number=sample.act_number,
            title=sample.title,
            signed_on=sample.signed_on,
            page_start=sample.page,
            page_end=sample.page + 1,
        )
        if sample.period is not None:
            act.facts = sample_facts(sample, zones[sample.administration_code])
            act.periods = [sample_period(sample, zones[sample.administration_code])]
        session.add(
            Hit(
                act=act,
                document=document,
                category=sample.category,
                score=0.9,
                terms=sample.terms,
                snippet=sample.snippet,
                page=sample.page,
                first_seen_at=sample.first_seen_at,
                rules_version="sample",
            )
        )
    session.flush()
    return count


def sample_facts(sample: SampleHit, zone: ZoneInfo) -> ActFacts:
    assert sample.period is not None
    start, end = (moment.astimezone(zone) for moment in sample.period)
    sentence = (
        f"Article 4 : La présente autorisation est délivrée du {start:%d/%m/%Y} à {start:%H} h "
        f"au {end:%d/%m/%Y} à {end:%H} h."
    )
    lead = int((sample.period[0] - sample.first_seen_at).total_seconds())
    data = {
        "periods": [{"start": start.isoformat(), "end": end.isoformat(), "evidence": sentence}],
        "communes": [{"name": sample.city, "insee": INSEE.get(sample.city)}],
        "perimeter": f"Le périmètre est constitué du centre-ville de {sample.city}.",
        "operator": {"name": f"DIPN {sample.department}", "kind": "police-nationale"},
        "max_cameras": sample.max_cameras,
        "max_aircraft": None,
        "purposes": ["securite-rassemblements"],
        "event": None,
        "evidence": {"max_cameras": "Article 2 : Le nombre maximal de caméras est fixé."},
    }
    return ActFacts(
        version="sample",
        data=data,
        first_start=sample.period[0],
        last_end=sample.period[1],
        published_at=sample.first_seen_at,
        publication_basis="first_seen_at",
        lead_seconds=lead,
        late=lead < 0,
    )


def sample_period(sample: SampleHit, zone: ZoneInfo) -> ActPeriod:
    assert sample.period is not None
    start, end = (moment.astimezone(zone) for moment in sample.period)
    last = (end - dt.timedelta(microseconds=1)).date()
    return ActPeriod(
        starts_at=sample.period[0], ends_at=sample.period[1], first_day=start.date(), last_day=last
    )


CRAWL_ERRORS = [
    "HTTP 503 sur la page des recueils",
    "délai dépassé (60 s) sur la page de départ",
    "aucun lien de recueil trouvé : la structure du site a changé",
]


def add_sample_crawl_runs(
    session: Session, *, seed: int = 0, now: dt.datetime | None = None
) -> None:
    """A crawl history for every administration: mostly recent successes, some failures after
    an older success, a few never crawled."""
    rng = random.Random(seed)
    now = now or dt.datetime.now(dt.UTC)
    for code in session.scalars(select(Administration.code).order_by(Administration.code)):
        luck = rng.random()
        if luck < 0.04:
            continue
        succeeded_at = now - dt.timedelta(hours=rng.randint(1, 20))
        if luck < 0.12:
            succeeded_at -= dt.timedelta(days=rng.randint(4, 30))
        session.add(
            CrawlRun(
                administration_code=code,
                started_at=succeeded_at - dt.timedelta(minutes=rng.randint(2, 25)),
                finished_at=succeeded_at,
                found=rng.randint(20, 400),
                new=rng.randint(0, 6),
            )
        )
        if luck < 0.12:
            failed_at = now - dt.timedelta(hours=rng.randint(1, 6))
            session.add(
                CrawlRun(
                    administration_code=code,
                    started_at=failed_at - dt.timedelta(minutes=3),
                    finished_at=failed_at,
                    error=rng.choice(CRAWL_ERRORS),
                )
            )
    session.flush()
