"""The facts stage: what an order authorises, read from its text."""

from __future__ import annotations

import datetime as dt

import pytest

from attrap.facts import ActContext, Commune, Facts, Operator, Period, act_context, extract_facts
from attrap.facts.places import territory
from bench.facts_accuracy import CORPUS, TARGETS, load_set, score

LYON = ActContext(departments=("69",), signed_on=dt.date(2025, 4, 28))


def periods(text: str, context: ActContext = LYON) -> list[tuple[str, str | None]]:
    found = extract_facts(text, context).periods
    return [(p.start.isoformat(), p.end.isoformat() if p.end else None) for p in found]


@pytest.mark.parametrize("corpus_set", ["dev", "holdout", "holdout2"])
def test_labelled_corpus_meets_the_targets(corpus_set: str) -> None:
    result = score(load_set(CORPUS / corpus_set))
    assert result.acts >= (40 if corpus_set == "dev" else 10)
    for field, target in TARGETS.items():
        assert result.accuracy(field) >= target, (field, result.errors)


def test_the_issue_examples() -> None:
    assert periods(
        "Article 4 : L'autorisation est délivrée du 1er mai 2025 à 9 heures au 1er mai 2025 à "
        "22 heures."
    ) == [("2025-05-01T09:00:00+02:00", "2025-05-01T22:00:00+02:00")]
    assert periods("Article 1 : La captation est autorisée le 21 juin 2025 de 18h à 3h.") == [
        ("2025-06-21T18:00:00+02:00", "2025-06-22T03:00:00+02:00")
    ]
    assert periods(
        "Article 1 : L'autorisation est accordée pour une durée d'un mois à compter du "
        "13 octobre 2025."
    ) == [("2025-10-13T00:00:00+02:00", "2025-11-13T00:00:00+01:00")]


def test_a_day_without_hours_is_the_whole_day_and_touching_days_merge() -> None:
    assert periods("Article 1 : La captation est autorisée le 14 juillet 2025.") == [
        ("2025-07-14T00:00:00+02:00", "2025-07-15T00:00:00+02:00")
    ]
    assert periods("Article 1 : La captation est autorisée les 14 et 15 juillet 2025.") == [
        ("2025-07-14T00:00:00+02:00", "2025-07-16T00:00:00+02:00")
    ]


def test_daily_windows_give_one_period_per_day() -> None:
    found = periods("Article 1 : La captation est autorisée du 6 au 8 juin 2025, de 8 h à 20 h.")
    assert found == [
        (f"2025-06-0{day}T08:00:00+02:00", f"2025-06-0{day}T20:00:00+02:00") for day in (6, 7, 8)
    ]


def test_overseas_time_zones() -> None:
    cayenne = ActContext(timezone="America/Cayenne", departments=("973",))
    assert periods(
        "Article 1 : La captation est autorisée le 1er décembre 2025 de 6 h à 22 h.", cayenne
    ) == [("2025-12-01T06:00:00-03:00", "2025-12-01T22:00:00-03:00")]


def test_dates_of_other_texts_requests_and_reasons_are_not_periods() -> None:
    text = (
        "Vu la demande de la DIPN du Rhône en date du 28 avril 2025 ;\n"
        "Considérant que la manifestation aura lieu le 1er mai 2025 ;\n"
        "ARRÊTE\n"
        "Article 1 : L'arrêté n° 2025-12 du 2 mai 2025 est modifié : la captation est autorisée "
        "le 3 mai 2025 de 10 h à 12 h.\n"
        "Article 2 : Un bilan est transmis au préfet avant le 31 mai 2025.\n"
        "Fait à Lyon, le 29 avril 2025"
    )
    assert periods(text) == [("2025-05-03T10:00:00+02:00", "2025-05-03T12:00:00+02:00")]


def test_nothing_stated_nothing_guessed() -> None:
    facts = extract_facts(
        "Arrêté autorisant la captation d'images au moyen de caméras installées sur des aéronefs\n"
        "ARRÊTE\nArticle 1 : Les dates de mise en œuvre figurent en annexe.",
        LYON,
    )
    assert facts == Facts()
    assert facts.is_empty()


def test_a_year_left_out_needs_a_reference_date() -> None:
    text = "Article 1 : La captation est autorisée le samedi 12 avril de 10 h à 19 h."
    assert periods(text) == [("2025-04-12T10:00:00+02:00", "2025-04-12T19:00:00+02:00")]
    assert periods(text, ActContext(departments=("69",))) == []


def test_communes_resolve_within_the_territory() -> None:
    text = "Article 1 : La captation est autorisée sur la commune de Saint-Denis."
    in_93 = extract_facts(text, ActContext(departments=territory("PP", "75", "police")))
    in_974 = extract_facts(text, ActContext(departments=("974",)))
    assert in_93.communes == (Commune("Saint-Denis", "93066"),)
    assert in_974.communes == (Commune("Saint-Denis", "97411"),)
    elsewhere = extract_facts(text, ActContext(departments=("69",)))
    assert elsewhere.communes == (Commune("Saint-Denis", None),)


def test_places_that_are_not_where_the_order_applies() -> None:
    text = (
        "Vu la demande du maire de Villeurbanne ;\n"
        "ARRÊTE\n"
        "Article 1 : La DIPN du Rhône est autorisée à Lyon, avenue de Bron, place de Vénissieux.\n"
        "Article 2 : Recours devant le tribunal administratif de Lyon.\n"
        "Fait à Caluire-et-Cuire, le 29 avril 2025"
    )
    facts = extract_facts(text, LYON)
    assert facts.communes == (Commune("Lyon", "69123"),)
    assert facts.evidence["communes"].startswith("Article 1")


def test_perimeter_as_written_with_its_list() -> None:
    text = (
        "ARRÊTE\n"
        "Article 3 : Le périmètre géographique concerné est le suivant :\n"
        "- la place Bellecour ;\n"
        "- la rue de la République.\n"
        "Article 4 : Deux caméras au plus."
    )
    facts = extract_facts(text, LYON)
    assert facts.perimeter == (
        "Le périmètre géographique concerné est le suivant : - la place Bellecour ; "
        "- la rue de la République."
    )
    assert facts.max_cameras == 2


def test_the_operator_is_the_authorised_service_not_the_executor() -> None:
    text = (
        "Vu la demande du directeur départemental de la sécurité publique du Nord ;\n"
        "ARRÊTE\n"
        "Article 1 : La captation est autorisée.\n"
        "Article 5 : Le directeur de cabinet et le directeur interdépartemental de la police "
        "nationale du Nord sont chargés de l'exécution du présent arrêté."
    )
    facts = extract_facts(text, ActContext(departments=("59",)))
    assert facts.operator == Operator("DDSP du Nord", "police-nationale")
    assert "demande" in facts.evidence["operator"]


def test_aircraft_are_not_cameras() -> None:
    facts = extract_facts(
        "ARRÊTE\nArticle 2 : Au plus quatre aéronefs pourront être employés simultanément.", LYON
    )
    assert facts.max_aircraft == 4
    assert facts.max_cameras is None


def test_occasion_names_keep_lowercase_places_and_drop_dangling_words() -> None:
    def occasion(sentence: str) -> str | None:
        return extract_facts(f"ARRÊTE\nArticle 1 : {sentence}", LYON).event

    # « à caractère » is not a place (« à Lyon » is), « d'un » is an article.
    assert (
        occasion(
            "La captation est autorisée à l'occasion d'un rassemblement festif à caractère "
            "musical, le 3 mai 2025."
        )
        == "rassemblement festif à caractère musical"
    )
    assert occasion("Elle est autorisée à l'occasion du concert à Lyon.") == "concert"
    # Cut before « rassemblements », the name does not end in « et des ».
    assert (
        occasion(
            "Elle est autorisée à l'occasion du match OL – ASSE et des rassemblements "
            "qui l'entourent."
        )
        == "match OL – ASSE"
    )


def test_one_camera_at_a_time_is_a_maximum() -> None:
    text = "ARRÊTE\nArticle 2 : Une seule caméra pourra être utilisée à la fois."
    assert extract_facts(text, LYON).max_cameras == 1


def test_evidence_is_the_sentence_as_printed() -> None:
    text = "ARRÊTE\nArticle 4 : La présente autorisation est\ndélivrée le 1er mai 2025."
    (period,) = extract_facts(text, LYON).periods
    assert period.evidence == "Article 4 : La présente autorisation est délivrée le 1er mai 2025."


def test_json_round_trip() -> None:
    facts = Facts(
        periods=(
            Period(
                dt.datetime.fromisoformat("2025-05-01T09:00:00+02:00"),
                dt.datetime.fromisoformat("2025-05-01T22:00:00+02:00"),
                "…",
            ),
        ),
        communes=(Commune("Lyon", "69123"),),
        perimeter="Presqu'île",
        operator=Operator("DIPN du Rhône", "police-nationale"),
        max_cameras=4,
        purposes=("securite-rassemblements",),
        event="manifestation",
        evidence={"max_cameras": "Article 2 …"},
    )
    assert Facts.from_json(facts.to_json()) == facts


def test_context_of_a_region_covers_its_departments() -> None:
    context = act_context(
        administration_code="R93", department=None, kind="region", timezone="Europe/Paris"
    )
    assert context.departments == ("04", "05", "06", "13", "83", "84")
