"""Normalisation, rules loading and the matcher: real-world wordings, OCR damage and every trap."""

from __future__ import annotations

from pathlib import Path

import pytest

from attrap.config import MatchingSettings, Settings
from attrap.documents.pages import PageText
from attrap.documents.segment import ActSegment
from attrap.matching.categories import catalogue
from attrap.matching.matcher import HitCandidate, Matcher
from attrap.matching.normalise import fold, normalise
from attrap.matching.rules import RulesError, load_rules
from attrap.notify.messages import category_hashtag
from attrap.notify.messages import category_label as message_label
from attrap.web.text import category_colour as web_colour
from attrap.web.text import category_label as web_label


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.from_settings(Settings())


def act(*page_texts: str, first_page: int = 1) -> ActSegment:
    pages = tuple(PageText(first_page + i, text, "text-layer") for i, text in enumerate(page_texts))
    return ActSegment(None, "", None, first_page, first_page + len(pages) - 1, pages)


def categories(matcher: Matcher, *page_texts: str) -> set[str]:
    return {hit.category for hit in matcher.match(act(*page_texts))}


def only_hit(matcher: Matcher, text: str) -> HitCandidate:
    hits = matcher.match(act(text))
    assert len(hits) == 1, hits
    return hits[0]


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "folded"),
    [
        ("L.242-5", "l 242 5"),
        ("L 242-5", "l 242 5"),
        ("L. 242-5", "l 242 5"),
        ("Caméras INSTALLÉES", "cameras installees"),
        ("mise en œuvre", "mise en oeuvre"),
        ("déﬁnitive", "definitive"),  # ligature
        ("aéro-\nnefs", "aeronefs"),  # hyphenation across a line end
        ("vidéo-\n  protection", "videoprotection"),
        ("l’arrêté  du\t1ᵉʳ", "l arrete du 1er"),
        ("vidéo\u00adprotection", "videoprotection"),  # soft hyphen
        ("Saint-Émilion", "saint emilion"),  # a hyphen inside a line stays a separator
        ("I'enregistrement, I' Etat, |'ordre", "l enregistrement l etat l ordre"),  # OCR « l »
        ("Il a dit : IL", "il a dit il"),
    ],
)
def test_fold(printed: str, folded: str):
    assert fold(printed) == folded


def test_offsets_point_back_into_the_original_text():
    original = "Vu l'arrêté n° 13-2024 sur les aéro-\nnefs ; fin"
    normalised = normalise(original)
    start = normalised.text.index("aeronefs")
    begin, end = normalised.span_in_original(start, start + len("aeronefs"))
    assert original[begin:end] == "aéro-\nnefs"
    assert len(normalised.origin) == len(normalised.text)


# --- wordings that must be found --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Arrêté portant autorisation de l'usage de dispositifs aéroportés par la DDSP du Nord",
        "Arrêté autorisant l'utilisation d'aéronefs circulant sans personne à bord équipés de "
        "caméras par le groupement de gendarmerie",
        "Vu le code de la sécurité intérieure, notamment son article L.242-5 ;\n"
        "Article 1 : la captation d'images par des drones est autorisée.",
        "Arrêté portant autorisation de captation d'images par des caméras embarquées sur des "
        "drones lors du match",
        "ARRETE PORTANT AUTORISATION D'UTILISATION DE CAMERAS AEROPORTEES",
        "Décision autorisant le recours à des drones équipés de caméras",
        # OCR damage: a letter read as a digit, a word hyphenated over two lines, stray spaces.
        "au moyen de caméras installées sur des a6ronefs par la police nationale",
        "au moyen de caméras installées sur des aéro-\nnefs par la police nationale",
        "au moyen de camé ras instal lées sur des aéronefs par la police nationale",
        "autorisant la captation d'images au moyen de caméras instailées sur des aéronets",
    ],
)
def test_drone_wordings(matcher: Matcher, text: str):
    assert "drone" in categories(matcher, text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Arrêté autorisant l'emploi de traitements algorithmiques sur les images", "vsa"),
        ("autorisant la mise en œuvre d'un traitement algorithmique des images", "vsa"),
        ("Arrêté portant expérimentation de la vidéosurveillance algorithmique", "vsa"),
        (
            "Arrêté portant renouvellement de l'autorisation d'un système de vidéo-\nprotection "
            "- TABAC PRESSE DU CENTRE",
            "videoprotection",
        ),
        (
            "Arrêté portant autorisation d'installation d'un système de vidéosurveillance",
            "videoprotection",
        ),
        (
            "autorisant les agents de police municipale à utiliser des caméras-piétons",
            "cameras-individuelles",
        ),
        (
            "Vu le code de la sécurité intérieure, notamment son article L. 241-2 ;\n"
            "Article 1 : L'enregistrement audiovisuel des interventions est autorisé.",
            "cameras-individuelles",
        ),
        (
            "Arrêté instaurant un périmètre de protection en application de l'article L. 226-1",
            "perimetre-protection",
        ),
        (
            "Arrêté portant création d'un périmètre de protection ; palpations de sécurité",
            "perimetre-protection",
        ),
    ],
)
def test_other_categories(matcher: Matcher, text: str, category: str):
    assert category in categories(matcher, text)


# Real wordings of BULLETINS.md, with the damage of real text layers and OCR.
@pytest.mark.parametrize(
    "text",
    [
        # Words glued where line breaks were lost, on either side of a phrase.
        "ARRETEautorisant lacaptation,l'enregistrement et latransmissiond'images au moyen "
        "decamérasinstallées surdesaéronefs",
        "Vu le code de la sécurité intérieure, notamment ses articlesL. 242-1 àL. 242-8 etR. 242-8 "
        "aR. 242-14 ;\nArticle 1er : la captation,l'enregistrement et latransmissiond'images "
        "est autorisée",
        # Split words, « I » for « l », apostrophes read as « □ ».
        "autorisant la captation, I'enregistrement et la tra nsmission d'images au moyen de "
        "caméras installées sur des aéronefs",
        "autorisant la captation, l□enregistrement et la transmission d□images au moyen de "
        "caméras installées sur des aéronefs",
        # Helicopters (still CSI L. 242-5), an abrogation, Gironde, Bouches-du-Rhône.
        "portant autorisation de captation, d'enregistrement et de transmission d'images au "
        "moyen d'une caméra installée sur un hélicoptère de la gendarmerie nationale",
        "Arrêté portant abrogation de l'arrêté autorisant la captation, l'enregistrement et la "
        "transmission d'images au moyen de caméras installées sur des aéronefs",
        "Arrêté d'autorisation de captation, enregistrement et de transmission de survol de "
        "drones pour l'agglomération bordelaise ; autorisant le survol de drones PN sur BORDEAUX "
        "par la direction interdépartementale de la police nationale",
        "Arrêté autorisant la captation et la transmission d'images au moyen de caméras "
        "installées sur des aéronefs lors du match",
        "AUTORISANT LA CAPTATION, L'ENREGISTREMENT ET LA TRANSMISSION D'IMAGES AU MOYEN DE "
        "CAMERASINSTALLEES SUR DES AERONEFS",
        "au moyens de caméras installées sur aéronefs sans équipage à bord ; transmission d'image",
    ],
)
def test_real_drone_wordings(matcher: Matcher, text: str):
    assert "drone" in categories(matcher, text)


# Every trap of BULLETINS.md: never « drone », and each in its own category or none.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "autorisant les services de la police nationale à utiliser un dispositif de brouillage "
            "destiné à rendre inopérant un aéronef circulant sans personne à bord",
            {"brouillage"},
        ),
        (
            "Arrêté autorisant le brouillage des aéronefs circulant sans personne à bord",
            {"brouillage"},
        ),
        (
            "portant interdiction temporaire de survol de la commune de Marseille par des aéronefs "
            "télé-pilotés (drones)",
            {"drone-interdiction"},
        ),
        ("AP interdiction vol Drone TDF 230725", {"drone-interdiction"}),
        ("création d'une Zone Délimitée temporaire sur l'Aéroport de Cannes-Mandelieu", set()),
        ("Arrêté portant autorisation de vols rasants d'aéronefs de la gendarmerie", set()),
        ("Arrêté autorisant l'ascension d'un ballon captif à Marseille", set()),
        ("Déclassement-Cannes-aviation", set()),
        (
            "autorisant les prises de vues aériennes par aéronef télépiloté, vu le code des "
            "transports, notamment son article L. 6224-1",
            set(),
        ),
        ("autorisant la consommation de l'eau issue de son captage privé", set()),
        ("AP DUP captage", set()),
        ("autorisant la capture de poissons et d'écrevisses à des fins scientifiques", set()),
        ("autorisant la surveillance sur la voie publique à une entreprise de sécurité", set()),
        (
            "instituant un périmètre au sein duquel la présence de certaines catégories de "
            "supporters est réglementée, vu le code du sport",
            set(),
        ),
        (
            "Arrêté portant délégation de signature à M. le directeur de cabinet pour les arrêtés "
            "autorisant la captation d'images au moyen de caméras installées sur des aéronefs",
            set(),
        ),
    ],
)
def test_real_traps(matcher: Matcher, text: str, expected: set[str]):
    assert categories(matcher, text) == expected


def test_a_cited_l_243_1_in_a_drone_order_is_no_body_camera_order(matcher: Matcher):
    text = (
        "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à L. 242-8 et "
        "L. 243-1 ;\nArrête : la captation, l'enregistrement et la transmission d'images au moyen "
        "de caméras installées sur des aéronefs est autorisée."
    )
    assert categories(matcher, text) == {"drone"}


# --- traps -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # « Drôme » is « drome » once folded, one letter from « drone ».
        "PRÉFET DE LA DRÔME\nArrêté relatif aux routes de la Drôme et du Diois",
        "Arrêté portant réglementation de la circulation aux abords de l'hippodrome de Pornichet",
        "Arrêté portant homologation de l'aérodrome et de l'héliport de Valence-Chabeuil",
        # Water abstraction: « captation » and « captage » are not image capture.
        "Arrêté autorisant la captation des eaux souterraines et le captage du Pré de la Dame",
        "Déclaration d'utilité publique des périmètres de protection du captage ; prélèvement",
        # Air shows and aviation.
        "Arrêté portant autorisation d'une manifestation aérienne ; les aéronefs participants, "
        "y compris les aéronefs télépilotés de démonstration, évolueront",
        "Arrêté portant autorisation de survol à basse hauteur par hélicoptère pour travaux",
    ],
)
def test_traps_give_no_hit(matcher: Matcher, text: str):
    assert categories(matcher, text) == set()


def test_a_ban_on_civilian_drones_is_not_a_drone_authorisation(matcher: Matcher):
    ban = (
        "Arrêté portant interdiction temporaire de survol de la ville de Reims par des aéronefs "
        "circulant sans personne à bord (drones)\nArticle 1er : Le survol de la commune par tout "
        "aéronef circulant sans personne à bord, y compris les drones de loisir, est interdit."
    )
    assert categories(matcher, ban) == {"drone-interdiction"}


def test_citing_the_drone_decree_is_not_authorising_drones(matcher: Matcher):
    vsa_only = (
        "Arrêté autorisant l'emploi de traitements algorithmiques sur les images\n"
        "Vu le décret n° 2023-828 du 28 août 2023 relatif aux traitements algorithmiques sur les\n"
        "images collectées au moyen de systèmes de vidéoprotection et de caméras installées sur\n"
        "des aéronefs ;\nArrête :\nArticle 1er : Le traitement est autorisé."
    )
    assert categories(matcher, vsa_only) == {"vsa"}


def test_vsa_on_cctv_images_is_not_a_cctv_authorisation(matcher: Matcher):
    text = (
        "Arrêté autorisant l'emploi de traitements algorithmiques sur les images collectées au "
        "moyen de systèmes de vidéoprotection\nVu le code de la sécurité intérieure, notamment "
        "son article L. 252-1 ;"
    )
    assert categories(matcher, text) == {"vsa"}


def test_one_hit_per_category_with_evidence_on_the_right_page(matcher: Matcher):
    first = (
        "PRÉFET DES BOUCHES-DU-RHÔNE\nArrêté n° 13-2024-07-10-00003\n"
        "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à L. 242-8 ;\n"
        "Considérant la manifestation du 13 juillet ;"
    )
    second = (
        "Article 1er : La captation, l'enregistrement et la transmission d'images au moyen de "
        "caméras installées sur des aéronefs sont autorisés. Article 2 : les caméras installées "
        "sur des aéronefs sont au nombre de trois."
    )
    hits = matcher.match(act(first, second, first_page=12))
    assert [h.category for h in hits] == ["drone"]
    hit = hits[0]
    assert hit.page == 13
    assert hit.score == 1.0
    assert hit.terms[0] == "caméras installées sur des aéronefs"
    assert "L. 242-1" in hit.terms
    assert "caméras installées sur des aéronefs" in hit.snippet
    assert 120 <= len(hit.snippet) <= 260


def test_snippet_is_cut_from_the_original_text(matcher: Matcher):
    hit = only_hit(matcher, "Considérant ceci ; l'usage de CAMÉRAS AÉROPORTÉES est autorisé")
    assert "CAMÉRAS AÉROPORTÉES" in hit.snippet
    dehyphenated = only_hit(matcher, "au moyen de caméras installées sur des aéro-\nnefs.")
    assert "aéronefs" in dehyphenated.snippet


def test_scores_are_between_zero_and_one(matcher: Matcher):
    weak = only_hit(matcher, "Arrêté portant utilisation de drones ; L. 242-5")
    assert 0.6 <= weak.score < 1.0
    strong = only_hit(matcher, "Arrêté autorisant les caméras installées sur des aéronefs L. 242-5")
    assert strong.score == 1.0


# --- legal references belong to a code ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Code de la sécurité sociale: the assiette des cotisations, not the CSI's drone articles.
        "Vu le code de la sécurité sociale, notamment ses articles L. 241-1, L. 242-1 et L. 243-1 ;"
        "\nArticle 1er : le directeur départemental de la sécurité publique siège au comité.",
        "les rémunérations définies à l'article L. 242-1 du code de la sécurité sociale ; la "
        "gendarmerie et la police nationale participent au contrôle",
        "Vu le code de la sécurité sociale ;\nVu l'article L. 242-1 du même code ;\nArticle 1er : "
        "la police nationale est informée.",
        "l'assurance dommages-ouvrage prévue aux articles L. 242-1 et suivants du code des "
        "assurances ; hôtel de police",
        "Vu le code rural et de la pêche maritime, notamment ses articles L. 241-1 et L. 252-1 ;",
        "Vu le code de l'action sociale et des familles, notamment son article L. 226-1 ;",
        # Another article of the loi n° 2023-380 (body scanners).
        "Vu la loi n° 2023-380 du 19 mai 2023, notamment son article 11 ; décret n° 2023-828",
        # An article whose code is not said, and nothing else about drones.
        "Considérant que l'article L. 242-1 fixe l'assiette des cotisations ;",
    ],
)
def test_articles_of_other_codes_give_no_hit(matcher: Matcher, text: str):
    assert categories(matcher, text) == set()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Vu l'article L. 242-5 du code de la sécurité intérieure ;", "drone"),
        ("Vu l'article L. 242-5 du CSI ;", "drone"),
        (
            "Vu le décret n° 2023-283 du 19 avril 2023 pris pour l'application des articles "
            "L. 242-1 à L. 242-8 ;\nArticle 1er : la captation d'images est autorisée.",
            "drone",
        ),
        (
            "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à L. 242-8 ;",
            "drone",
        ),
        (
            "Vu le code de la sécurité intérieure ;\nVu le code des transports ;\n"
            "Vu le code de la sécurité intérieure, notamment son article L. 251-2 ;\n"
            "Vu l'article L. 242-5 du même code ;",
            "drone",
        ),
        # OCR damage in the code's name.
        (
            "VU le code de la s6curit6 int6rieure, notamment ses articles L.242-1 à L.242-8 ;",
            "drone",
        ),
        (
            "Vu l'article L. 226-1 du code de la sécurité intérieure ;\n"
            "Article 1er : un périmètre de protection",
            "perimetre-protection",
        ),
        ("Vu l'article 10 de la loi n° 2023-380 ; Vu le décret n° 2023-828 ;", "vsa"),
        (
            "Vu la loi n° 2023-380 relative aux jeux Olympiques, notamment son article 10 ;\n"
            "Vu le décret n° 2023-828 ;",
            "vsa",
        ),
    ],
)
def test_articles_of_the_right_code_count(matcher: Matcher, text: str, category: str):
    assert category in categories(matcher, text)


def test_an_article_of_an_unnamed_code_needs_another_signal(matcher: Matcher):
    assert categories(matcher, "en application de l'article L. 242-5 ;") == set()
    hit = only_hit(matcher, "en application de l'article L. 242-5, les drones de la DDSP")
    assert hit.category == "drone"
    assert "L. 242-5" in hit.terms


# --- acts that authorise nothing ----------------------------------------------------------------


def test_a_delegation_of_signature_is_no_authorisation(matcher: Matcher):
    delegation = (
        "Arrêté portant délégation de signature à M. le directeur de cabinet\n"
        "Article 1er : Délégation de signature est donnée pour signer les autorisations de "
        "captation d'images au moyen de caméras installées sur des aéronefs (article L. 242-5 du "
        "code de la sécurité intérieure), les autorisations de systèmes de vidéoprotection et "
        "l'emploi de traitements algorithmiques."
    )
    assert categories(matcher, delegation) == set()


def test_citing_a_delegation_does_not_cancel_an_authorisation(matcher: Matcher):
    authorisation = (
        "Arrêté autorisant la captation d'images au moyen de caméras installées sur des aéronefs\n"
        "Vu l'arrêté préfectoral du 2 janvier 2025 portant délégation de signature à M. le "
        "directeur de cabinet ;\nArrête :\nArticle 1er : la DDSP est autorisée."
    )
    assert categories(matcher, authorisation) == {"drone"}


def test_a_refusal_is_no_authorisation_but_an_abrogation_is_news(matcher: Matcher):
    refusal = (
        "Arrêté portant refus d'autorisation d'un système de vidéoprotection\nArticle 1er : La "
        "demande d'autorisation d'installation d'un système de vidéoprotection est rejetée."
    )
    abrogation = (
        "Arrêté portant abrogation de l'arrêté autorisant un système de vidéoprotection\n"
        "Article 1er : L'autorisation du système de vidéoprotection est abrogée."
    )
    assert categories(matcher, refusal) == set()
    assert categories(matcher, abrogation) == {"videoprotection"}


# --- rules files -------------------------------------------------------------------------------


def test_shipped_rules_have_a_version_and_the_legal_categories():
    rules = load_rules(Settings())
    assert rules.version
    assert {c.id for c in rules.categories} >= {
        "drone",
        "drone-interdiction",
        "brouillage",
        "vsa",
        "videoprotection",
        "cameras-individuelles",
        "perimetre-protection",
    }


def test_categories_are_described_once_in_the_rules():
    shipped = catalogue()
    assert shipped.ids[:3] == ["drone", "drone-interdiction", "brouillage"]
    assert shipped.notified == ["drone", "vsa"]
    drone, ban, jamming = (shipped.get(c) for c in shipped.ids[:3])
    assert (drone.label, drone.hashtag, drone.colour) == ("Drones", "#drone", "#a50f15")
    assert ban.label == "Interdictions de drones" and not ban.notify
    assert jamming.label == "Brouillage anti-drones" and not jamming.notify
    # The web page, the notifications and the CLI read the same catalogue.
    assert web_label("drone-interdiction") == message_label("drone-interdiction") == ban.label
    assert category_hashtag("brouillage") == "#BrouillageDrones"
    assert web_colour("vsa") == shipped.colour("vsa")
    # A category stored under older rules still reads well.
    assert (shipped.label("old-one"), shipped.hashtag("old-one")) == ("Old one", "#OldOne")


@pytest.mark.parametrize(
    "text",
    [
        "Arrêté autorisant les services de la police nationale à utiliser un dispositif de "
        "brouillage destiné à rendre inopérant un aéronef circulant sans personne à bord lors "
        "du sommet, vu le code des postes et des communications électroniques, notamment son "
        "article L. 33-3-1 ; les drones survolant le périmètre pourront être neutralisés.",
        "ARRÊTÉ autorisant le brouillage des aéronefs circulant sans personne à bord aux abords "
        "du stade Vélodrome par la direction départementale de la sécurité publique.",
    ],
)
def test_anti_drone_jamming_has_its_own_category(matcher: Matcher, text: str):
    assert categories(matcher, text) == {"brouillage"}


def test_configured_rules_replace_the_defaults(tmp_path: Path):
    path = tmp_path / "rules.toml"
    path.write_text(
        'version = "test-1"\n[[categories]]\nid = "fourriere"\nlabel = "Fourrière"\n'
        'min_score = 0.5\n[[categories.signals]]\nweight = 0.5\nphrases = ["mise en fourrière"]\n',
        encoding="utf-8",
    )
    matcher = Matcher.from_settings(Settings(matching=MatchingSettings(rules=str(path))))
    assert matcher.version == "test-1"
    assert matcher.categories == ["fourriere"]
    hits = matcher.match(act("Arrêté portant MISE EN FOURRIÈRE des véhicules"))
    assert [(h.category, h.terms) for h in hits] == [("fourriere", ("mise en fourrière",))]
    described = catalogue(Settings(matching=MatchingSettings(rules=str(path)))).get("fourriere")
    assert (described.label, described.hashtag, described.notify) == (
        "Fourrière",
        "#Fourriere",
        False,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("version = ", "TOML invalide"),
        ('version = "1"\ncategories = []', "categories"),
        (
            'version = "1"\n[[categories]]\nid = "x"\nlabel = "x"\nmin_score = 0.5\n'
            "[[categories.signals]]\nweight = 0.5\npatterns = ['(']\n",
            "expression régulière invalide",
        ),
        (
            'version = "1"\n[[categories]]\nid = "x"\nlabel = "x"\nmin_score = 0.5\n'
            "[[categories.signals]]\nweight = 0.5\n",
            "il faut des phrases ou des motifs",
        ),
        (
            'version = "1"\n[[categories]]\nid = "x"\nlabel = "x"\nmin_score = 0.5\ntypo = 1\n'
            "[[categories.signals]]\nweight = 0.5\nphrases = ['a']\n",
            "categories.0.typo",
        ),
        (
            'version = "1"\n[[categories]]\nid = "x"\nlabel = "x"\nmin_score = 0.5\n'
            "[[categories.signals]]\nweight = 0.5\npatterns = ['l 1']\narticle_of = 'csi'\n",
            "article_of 'csi' n'est pas dans legal_texts",
        ),
        (
            'version = "1"\n[[categories]]\nid = "x"\nlabel = "x"\nmin_score = 0.5\n'
            "[[categories.signals]]\nweight = 0.5\nphrases = ['a']\n"
            "[[exclusions]]\nname = 'refus'\ncategories = ['y']\nphrases = ['refus']\n",
            "catégories inconnues",
        ),
    ],
)
def test_invalid_rules_name_the_problem(tmp_path: Path, content: str, message: str):
    path = tmp_path / "rules.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError, match=message) as error:
        load_rules(Settings(matching=MatchingSettings(rules=str(path))))
    assert str(path) in str(error.value)


def test_missing_rules_file(tmp_path: Path):
    with pytest.raises(RulesError, match="lecture des règles impossible"):
        load_rules(Settings(matching=MatchingSettings(rules=str(tmp_path / "none.toml"))))
