"""Splitting bulletins into acts: structure, numbers, dates, and the cases without structure."""

from __future__ import annotations

import datetime as dt

from attrap.documents.pages import PageText
from attrap.documents.segment import segment, segment_explained, signature_date

COVER = """PRÉFET DES BOUCHES-DU-RHÔNE
Liberté
Égalité
Fraternité
RECUEIL DES ACTES ADMINISTRATIFS SPÉCIAL
N° 13-2024-178
PUBLIÉ LE 11 JUILLET 2024"""

SOMMAIRE = """Sommaire
Cabinet du préfet
13-2024-07-10-00003 - Arrêté autorisant la captation, l'enregistrement et la transmission
d'images au moyen de caméras installées sur des aéronefs (2 pages) ............ Page 3
Arrêté portant interdiction de la vente d'artifices (1 page) ............ Page 5
Direction départementale de la sécurité publique
Arrêté n° 2024/DDSP/123 portant réglementation du stationnement ............ Page 5
13-2024-07-12-00001 - Arrêté préfectoral portant fermeture d'un débit de boissons ..... Page 7"""

DRONE_PAGE_1 = """PRÉFET DES BOUCHES-DU-RHÔNE
Cabinet du préfet

Arrêté n° 13-2024-07-10-00003 autorisant la captation, l'enregistrement et la
transmission d'images au moyen de caméras installées sur des aéronefs

Le préfet de la région Provence-Alpes-Côte d'Azur, préfet des Bouches-du-Rhône,
Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à L. 242-8 ;
Considérant qu'une manifestation est annoncée le 13 juillet 2024 à Marseille ;
ARRÊTE
Article 1er : La captation, l'enregistrement et la transmission d'images sont autorisés
13-2024-07-10-00003 - Arrêté autorisant la captation (drones) 1/2"""

# The act goes on: this page opens mid-sentence on a quoted order, which starts nothing.
DRONE_PAGE_2 = """arrêté préfectoral du 2 mai 2024 relatif aux manifestations, dans le périmètre.
Article 2 : Le nombre maximal de caméras est fixé à trois.
Fait à Marseille, le 10 juillet 2024
Pour le préfet et par délégation, le directeur de cabinet
13-2024-07-10-00003 - Arrêté autorisant la captation (drones) 2/2"""

# Two acts on one page: the second starts after the first one's signature.
TWO_ACTS_PAGE = """PRÉFET DES BOUCHES-DU-RHÔNE
Arrêté portant interdiction de la vente d'artifices de divertissement
Le préfet des Bouches-du-Rhône,
Vu le code de la sécurité intérieure ;
Arrête :
Article 1er – La vente d'artifices est interdite du 13 au 15 juillet 2024.
Fait à Marseille, le 1er juillet 2024
Le préfet
Arrêté n° 2024/DDSP/123 portant réglementation du stationnement aux abords du stade
Le préfet de police des Bouches-du-Rhône,
Vu le code de la route ;
Arrête :
Article 1er – Le stationnement est interdit.
Fait le 3 juillet 2024 à Marseille"""

ANNEX_PAGE = """ANNEXE
Liste des rues concernées : boulevard Michelet, avenue du Prado, rue Raymond Teisseire."""

# OCR'd page: no accents, a stray space in the number, the title wrapped over two lines.
OCR_PAGE = """PREFET DES BOUCHES-DU-RHONE
ARRETE PREFECTORAL N° 13-2024-07-12 -00001
portant fermeture administrative du débit de boissons
« Le Bar du Port » à Marseille
LE PREFET DES BOUCHES-DU-RHONE
Vu le code de la santé publique ;
ARRETE
Article 1 : L'établissement est fermé pour une durée de quinze jours.
Fait a Marseille, le 12 juillet 2024"""


def pages(*texts: str) -> list[PageText]:
    return [PageText(n, text, "text-layer") for n, text in enumerate(texts, start=1)]


def test_bulletin_with_cover_sommaire_and_acts():
    acts = segment(
        pages(COVER, SOMMAIRE, DRONE_PAGE_1, DRONE_PAGE_2, TWO_ACTS_PAGE, ANNEX_PAGE, OCR_PAGE)
    )
    summary = [(a.number, a.page_start, a.page_end, a.signed_on) for a in acts]
    assert summary == [
        ("13-2024-07-10-00003", 3, 4, dt.date(2024, 7, 10)),
        (None, 5, 5, dt.date(2024, 7, 1)),
        ("2024/DDSP/123", 5, 6, dt.date(2024, 7, 3)),
        ("13-2024-07-12-00001", 7, 7, dt.date(2024, 7, 12)),
    ]
    titles = [a.title for a in acts]
    assert titles == [
        "Arrêté autorisant la captation, l'enregistrement et la transmission d'images au moyen"
        " de caméras installées sur des aéronefs",
        "Arrêté portant interdiction de la vente d'artifices de divertissement",
        "Arrêté portant réglementation du stationnement aux abords du stade",
        "ARRETE PREFECTORAL portant fermeture administrative du débit de boissons"
        " « Le Bar du Port » à Marseille",
    ]


def test_act_text_is_kept_per_page():
    acts = segment(pages(COVER, SOMMAIRE, DRONE_PAGE_1, DRONE_PAGE_2, TWO_ACTS_PAGE, ANNEX_PAGE))
    drone, fireworks, parking = acts
    assert [p.number for p in drone.pages] == [3, 4]
    # The act's footer (act id, title, page) is no part of its text.
    assert drone.pages[1].text == DRONE_PAGE_2.rsplit("\n", 1)[0]
    # The shared page is cut at the second act's title line.
    assert fireworks.pages[0].text.endswith("Le préfet")
    assert parking.pages[0].text.startswith("Arrêté n° 2024/DDSP/123")
    assert "boulevard Michelet" in parking.pages[1].text
    # Nothing from the cover or the sommaire ends up in an act.
    assert all("Sommaire" not in p.text and "RECUEIL" not in p.text for a in acts for p in a.pages)


def test_a_repeated_number_in_a_page_header_is_the_same_act():
    continued = "13-2024-07-10-00003 - Arrêté autorisant la captation (drones)\n" + DRONE_PAGE_2
    acts = segment(pages(DRONE_PAGE_1, continued))
    assert [(a.number, a.page_start, a.page_end) for a in acts] == [("13-2024-07-10-00003", 1, 2)]


def test_acts_without_numbers_start_on_a_new_page_with_a_prefet_header():
    first = "PRÉFÈTE DU BAS-RHIN\nArrêté portant institution d'un périmètre de protection\n"
    second = "PRÉFÈTE DU BAS-RHIN\nArrêté portant fermeture d'une route\nVu le code de la route ;"
    acts = segment(pages(first + "Vu le code ;\nArticle 1er – Un périmètre.", second))
    assert [(a.number, a.page_start, a.title) for a in acts] == [
        (None, 1, "Arrêté portant institution d'un périmètre de protection"),
        (None, 2, "Arrêté portant fermeture d'une route"),
    ]


def test_a_bulletin_without_structure_is_one_act_with_every_page():
    texts = ("Quelques notes.", "Une liste de communes : Aix, Arles.", "Fin du document.")
    acts = segment(pages(*texts))
    assert len(acts) == 1
    assert (acts[0].page_start, acts[0].page_end, acts[0].number) == (1, 3, None)
    assert [p.text for p in acts[0].pages] == list(texts)


def test_text_before_the_first_recognised_act_is_kept():
    # An act whose header the segmenter cannot see (no title line, no « PRÉFET », no number).
    headless = "Le directeur départemental,\nVu le code de l'environnement ;\nArticle 1 : Accordé."
    acts = segment(pages(COVER, headless, DRONE_PAGE_1))
    assert [(a.page_start, a.number) for a in acts] == [(2, None), (3, "13-2024-07-10-00003")]
    assert acts[0].pages[0].text == headless


def test_empty_input_and_blank_pages():
    assert segment([]) == []
    acts = segment(pages("", ""))
    assert [(a.page_start, a.page_end) for a in acts] == [(1, 2)]
    # Pages OCR could not read: one act, no page set aside beside it.
    assert segment_explained(pages("", "", "")).set_aside == []


def test_a_sommaire_published_alone_has_no_act():
    alone = segment_explained(pages(COVER, SOMMAIRE))
    assert alone.acts == []
    assert [s.page for s in alone.set_aside] == [1, 2]


def test_signature_dates():
    assert signature_date("Fait à Paris, le 1er mars 2024") == dt.date(2024, 3, 1)
    assert signature_date("Fait à Châlons-en-Champagne,\nle 30 septembre 2025") == dt.date(
        2025, 9, 30
    )
    assert signature_date("FAIT A VALENCE, LE 2 SEPTEMBRE 2024") == dt.date(2024, 9, 2)
    assert signature_date("Fait le 14 août 2025 à Lorient") == dt.date(2025, 8, 14)
    assert signature_date("Fait à Nice, le 31 février 2025") is None
    assert signature_date("Le 10 juillet 2024, à Marseille") is None


def test_date_falls_back_on_the_title_then_the_number():
    titled = "Arrêté du 14 mars 2025 autorisant les caméras individuelles\nVu le code ;"
    numbered = "Arrêté n° 13-2024-06-27-00145 portant autorisation\nVu le code ;"
    assert [a.signed_on for a in segment(pages(titled))] == [dt.date(2025, 3, 14)]
    assert [a.signed_on for a in segment(pages(numbered))] == [dt.date(2024, 6, 27)]


def test_a_sommaire_continued_on_pages_without_a_heading():
    continued = "\n".join(
        f"13-2024-07-10-{n:05d}\nArrêté portant autorisation de vidéoprotection (1 page) Page {n}"
        for n in range(20, 26)
    )
    acts = segment(pages(COVER, SOMMAIRE, continued, DRONE_PAGE_1, DRONE_PAGE_2))
    assert [(a.number, a.page_start, a.page_end) for a in acts] == [("13-2024-07-10-00003", 4, 5)]


def test_separator_pages_with_the_variants_of_real_bulletins():
    """« ACTE PUBLIABLE » entries, a region code and a 4-digit serial, a footer whose service
    wraps before the act id, a title that is a bare date: still one act per separator page."""
    sommaire = (
        "Sommaire\nCabinet /\n"
        "ACTE PUBLIABLE R03-2025-09-10-0002 - arrêté du 30 janvier 2026 (2 pages) Page 3\n"
        "R03-2025-09-10-0003 - AP 2026-111 Drone DIPN 27 01 26 Nice (1 page) Page 5\n2"
    )
    footer = (
        "Direction de la sécurité de l'aviation civile Antilles-Guyane -\n{id} - {title} {page}"
    )

    def separator(act_id: str, title: str, page: int) -> str:
        return f"Cabinet du préfet\n{act_id}\n{title}\n" + footer.format(
            id=act_id, title=title, page=page
        )

    first = ("R03-2025-09-10-0002", "arrêté du 30 janvier 2026")
    second = ("R03-2025-09-10-0003", "AP 2026-111 Drone DIPN 27 01 26 Nice")
    body = "PRÉFET DE LA GUYANE\nArrêté n° 2026-0012\nVu le code ;\nArticle 1er : Accordé.\n"
    acts = segment(
        pages(
            COVER,
            sommaire,
            separator(*first, 3),
            body + footer.format(id=first[0], title=first[1], page=4),
            separator(*second, 5),
            body + footer.format(id=second[0], title=second[1], page=6),
        )
    )
    assert [(a.number, a.page_start, a.page_end, a.title) for a in acts] == [
        (first[0], 3, 4, first[1]),
        (second[0], 5, 6, second[1]),
    ]
    assert all("aviation civile" not in p.text for a in acts for p in a.pages)


def test_a_number_on_the_line_after_its_sign():
    act = "PRÉFET DE L'AIN\nARRETE N°\n20240170\nportant fermeture d'une route\nVu le code ;"
    [found] = segment(pages(act))
    assert (found.number, found.title) == ("20240170", "ARRETE portant fermeture d'une route")
