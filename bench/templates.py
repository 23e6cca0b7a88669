"""Fixture bulletins in every template of real RAA (docs: shared BULLETINS.md), with their truth.

Each template is written page by page, as prefectures lay them out: the State template with its
separator pages and act footers, Loire-Atlantique and Hérault (sommaires without page numbers),
Alpes-Maritimes before 2026 (no sommaire), Bas-Rhin (« S O M M A I R E »), the Préfecture de
police's table sommaire, a Bouches-du-Rhône BIS bulletin (entries without act ids) and standalone acts. The
text carries the damage found in real ones: « □ » for apostrophes, glued and split words, « I » for
« l », stamped dates, letterhead noise. The orders use real wording styles (opaque file-name
titles, helicopters, an abrogation, Gironde's « survol de drones », Bouches-du-Rhône without
« l'enregistrement ») beside the real traps (a ban on civilian drones, anti-drone jamming, a
supporters perimeter, water catchments, aviation orders, a delegation of signature).

    python -m bench.templates --out DIR [--scanned]

writes one PDF per template and, beside it, a JSON file with its truth (acts, set-aside pages).
"""

# Page lines are written as printed, one string per line of the page, however long.
# ruff: noqa: E501

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from bench.bulletins import FONT_DIR, CorpusAct, scan_pages


@dataclass(frozen=True)
class ExpectedAct:
    number: str | None
    title: str  # as published: the separator's, else the act's own title without its number
    page_start: int
    page_end: int
    categories: tuple[str, ...]  # every category it must be a hit in, and no other


@dataclass
class Page:
    lines: list[str]
    footer: list[str] = field(default_factory=list)  # written at the bottom, in small type
    separator: bool = False  # an act's separator page (act id and title), not its own text


@dataclass
class Template:
    name: str
    description: str
    pages: list[Page]
    acts: list[ExpectedAct]
    set_aside: tuple[int, ...]  # cover and sommaire pages


@dataclass(frozen=True)
class BuiltTemplate:
    template: Template
    path: Path
    scanned_pages: tuple[int, ...]

    @property
    def scanned(self) -> bool:
        return bool(self.scanned_pages)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.template.name,
            "scanned_pages": list(self.scanned_pages),
            "pages": len(self.template.pages),
            "set_aside": list(self.template.set_aside),
            "acts": [asdict(act) for act in self.template.acts],
        }


# --- The State template ---------------------------------------------------------------------

_BDR_SERVICE = (
    "Cabinet du préfet / Direction de la sécurité : police administrative et réglementation"
)
_DDTM = "Direction départementale des territoires et de la mer / Service mer"


def _footer(service: str, act_id: str, title: str, page: int, *, glued: bool = False) -> list[str]:
    """« <service> - <act id> - <full title> <page> », wrapped over two lines."""
    text = f"{service.split(' / ')[0]} - {act_id} - {title}"
    cut = text.rfind(" ", 0, 110) if len(text) > 110 else len(text)
    first, rest = text[:cut], text[cut:].strip()
    number = f"{rest}{page}" if glued else f"{rest} {page}".strip()
    return [first, number] if rest else [f"{first} {page}"]


def _separator(service: str, act_id: str, title: str, page: int, **extra: bool) -> Page:
    lines = [service, "", act_id, "", title]
    if extra.get("signataire"):
        lines += ["", "{signataire}"]
    footer = _footer(service, act_id, title, page, glued=extra.get("glued", False))
    return Page(lines, footer, separator=True)


def state_template() -> Template:
    a1 = (
        "13-2025-09-12-00002",
        "250912 Note + APM ajustement du phasage des travaux de la tranchée couverte du "
        "boulevard Schloesing",
    )
    a2 = ("13-2025-09-11-00004", "20250922 AP drone SGO")
    a3 = (
        "13-2025-09-11-00005",
        "Arrêté portant interdiction temporaire de survol de la commune de Marseille par des "
        "aéronefs télé-pilotés (drones)",
    )
    a4 = ("13-2025-09-12-00007", "arrêté du 19 septembre 2025 (1)")
    cover = Page(
        [
            "PRÉFET",
            "DES BOUCHES-DU-",
            "RHÔNE",
            "LibertéÉgalitéFraternité",
            "",
            "RECUEIL DES ACTES",
            "ADMINISTRATIFS SPÉCIAL",
            "N°13-2025-287",
            "",
            "PUBLIÉ LE 12 SEPTEMBRE 2025",
        ]
    )
    sommaire = Page(
        [
            "Sommaire",
            "",
            "Direction départementale des territoires et de la mer / Service mer",
            f"{a1[0]} - 250912 Note + APM ajustement du phasage des travaux de la",
            "tranchée couverte du boulevard Schloesing (1 page) Page 3",
            "Cabinet du préfet / Direction de la sécurité : police administrative et",
            "réglementation",
            f"{a2[0]} – 20250922 AP drone SGO (2",
            "pages) Page 5",
            f"{a3[0]} - Arrêté portant interdiction temporaire de survol de la commune de",
            "Marseille par des aéronefs télé-pilotés (drones) (1 page)Page 8",
            f"{a4[0]} - arrêté du 19 septembre 2025 (1) ( 1 page )",
            "",
            "2",
        ]
    )
    a1_body = Page(
        [
            "PREFETDES BOUCHES-DU-RHÔNELibertéEgalitéFraternité",
            "Direction départementale des territoires et de la mer",
            "Arrêté n° 2025-DDTM-0412 portant ajustement du phasage des travaux de la tranchée",
            "couverte du boulevard Schloesing",
            "Le préfet de la région Provence-Alpes-Côte d'Azur, préfet des Bouches-du-Rhône,",
            "Vu le code de la route ;",
            "Vu la note de l'entreprise en date du 12 septembre 2025 ;",
            "ARRÊTE",
            "Article 1er : Le phasage des travaux est ajusté ; la circulation est interdite",
            "dans la tranchée couverte de 21 h à 5 h.",
            "Fait à Marseille, le 12 septembre 2025",
        ],
        _footer(_DDTM, *a1, 4),
    )
    a2_body_1 = Page(
        [
            "PREFETDES BOUCHES-DU-RHÔNELibertéEgalitéFraternité",
            "Cabinet du préfet",
            "Arrêté n°2025-00629",
            "ARRETEautorisant la captation, l'enregistrement et la transmissiond'images au moyen",
            "de camérasinstallées sur desaéronefs",
            "Le préfet de la région Provence-Alpes-Côte d'Azur, préfet des Bouches-du-Rhône,",
            "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à L. 242-8",
            "etR. 242-8 aR. 242-14 ;",
            "Vu la demande de la direction interdépartementale de la police nationale ;",
            "Considérant que le match Olympique de Marseille - Paris Saint-Germain se tient le",
            "22 septembre 2025 au stade Vélodrome ;",
            "ARRÊTE",
            "Article 1er : La captation, l'enregistrement et la tra nsmission d'images sont",
            "autorisés aux abords du stade Vélodrome le 22 septembre 2025 de 16 h à 23 h.",
        ],
        _footer(_BDR_SERVICE, *a2, 6),
    )
    a2_body_2 = Page(
        [
            "Article 2 : Le nombre maximal de caméras pouvant procéder simultanément",
            "aux traitements est fixé à deux.",
            "Fait à Marseille, le 2 | SEPT. 2025",
            "Pour le préfet, le directeur de cabinet",
        ],
        _footer(_BDR_SERVICE, *a2, 7),
    )
    a3_body = Page(
        [
            "PRÉFET DES BOUCHES-DU-RHÔNE",
            "Arrêté n° 2025-0447 portant interdiction temporaire de survol de la commune de",
            "Marseille par des aéronefs télé-pilotés (drones)",
            "Le préfet de la région Provence-Alpes-Côte d'Azur, préfet des Bouches-du-Rhône,",
            "Vu le code des transports ;",
            "Considérant le passage de la Patrouille de France le 20 septembre 2025 ;",
            "ARRÊTE",
            "Article 1er : Le survol de la commune de Marseille par des aéronefs circulant",
            "sans personne à bord est interdit le 20 septembre 2025 de 10 h à 18 h.",
            "Fait à Marseille, le 11 septembre 2025",
        ],
        _footer(_BDR_SERVICE, *a3, 9, glued=True),
    )
    a4_body = Page(
        [
            "PRÉFET DES BOUCHES-DU-RHÔNE",
            "Arrêté n° 2025-0451",
            "autorisant les services de la police nationale à utiliser un dispositif de",
            "brouillage destiné à rendre inopérant un aéronef circulant sans personne à bord",
            "Le préfet de la région Provence-Alpes-Côte d'Azur, préfet des Bouches-du-Rhône,",
            "Vu le code des postes et des communications électroniques, notamment son article",
            "L. 33-3-1 ;",
            "Considérant les risques que des drones font peser sur le rassemblement du",
            "20 septembre 2025 ;",
            "ARRÊTE",
            "Article 1er : Les services de la police nationale sont autorisés à utiliser un",
            "dispositif de brouillage des drones sur le Vieux-Port le 20 septembre 2025.",
            "Fait à Marseille, le 1 g SEPT. 2025",
        ],
        _footer(_BDR_SERVICE, *a4, 11),
    )
    pages = [
        cover,
        sommaire,
        _separator(_DDTM, *a1, 3),
        a1_body,
        _separator(_BDR_SERVICE, *a2, 5, signataire=True),
        a2_body_1,
        a2_body_2,
        _separator(_BDR_SERVICE, *a3, 8),
        a3_body,
        _separator(_BDR_SERVICE, *a4, 10, signataire=True),
        a4_body,
    ]
    return Template(
        "etat",
        "State template: separator pages, footers, opaque titles, own numbers in the acts",
        pages,
        [
            ExpectedAct(a1[0], a1[1], 3, 4, ()),
            ExpectedAct(a2[0], a2[1], 5, 7, ("drone",)),
            ExpectedAct(a3[0], a3[1], 8, 9, ("drone-interdiction",)),
            ExpectedAct(a4[0], a4[1], 10, 11, ("brouillage",)),
        ],
        (1, 2),
    )


# --- The other templates --------------------------------------------------------------------


def loire_atlantique_template() -> Template:
    drone_title = (
        "autorisant la captation, I'enregistrement et la transmission d'images au moyen de "
        "caméras installées sur des aéronefs à Nantes le 29 novembre 2025"
    )
    return Template(
        "loire-atlantique",
        "Sommaire with service headings and full titles, no act ids, no page numbers",
        [
            Page(
                [
                    "=mPREFETDE LA LOIRE-ATLANTIQUE",
                    "LibertéÉgalitéFraternité",
                    "RECUEIL DES ACTES ADMINISTRATIFS",
                    "n° 194 du 25 novembre 2025",
                ]
            ),
            Page(
                [
                    "SOMMAIRE",
                    "PREFECTURE 44",
                    "CAB – CABINET",
                    f"Arrêté préfectoral {drone_title}",
                    "Arrêté préfectoral portant autorisation d'un système de vidéoprotection -",
                    "commune de Saint-Nazaire",
                    "DDTM – DIRECTION DÉPARTEMENTALE DES TERRITOIRES ET DE LA MER",
                    "Arrêté portant déclaration d'utilité publique des travaux de dérivation des",
                    "eaux et instaurant les périmètres de protection du captage de la Roche",
                ]
            ),
            Page(
                [
                    "=mPREFETDE LA LOIRE-ATLANTIQUE",
                    "Cabinet du préfet",
                    "Arrêté préfectoral n° 2025-CAB-720",
                    "autorisant la captation, I'enregistrement et la transmission d'images au",
                    "moyen de caméras installées sur des aéronefs à Nantes le 29 novembre 2025",
                    "Le préfet de la région Pays de la Loire, préfet de la Loire-Atlantique,",
                    "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 et",
                    "suivants ;",
                    "Vu la demande de la direction départementale de la sécurité publique ;",
                    "Considérant la manifestation déclarée le 29 novembre 2025 à Nantes ;",
                    "ARRÊTE",
                    "Article 1er : La captation, I'enregistrement et la transmission d'images",
                    "au moyen de caméras installées sur des aéronefs sont autorisés.",
                ]
            ),
            Page(
                [
                    "Article 2 : Au plus trois caméras sont employées simultanément.",
                    "Fait à Nantes, le 43 BEC. 2025",
                    "Le préfet",
                ]
            ),
            Page(
                [
                    "=mPREFETDE LA LOIRE-ATLANTIQUE",
                    "Arrêté n° 2025/BPA/0311 portant autorisation d'un système de",
                    "vidéoprotection - commune de Saint-Nazaire",
                    "Le préfet de la Loire-Atlantique,",
                    "Vu le code de la sécurité intérieure, notamment ses articles L. 251-1 à",
                    "L. 255-1 ;",
                    "Vu l'avis de la commission départementale de vidéoprotection ;",
                    "ARRÊTE",
                    "Article 1er : Le maire de Saint-Nazaire est autorisé à installer un système",
                    "de vidéoprotection de douze caméras place de l'Amérique latine.",
                    "Fait à Nantes, le 20 novembre 2025",
                ]
            ),
            Page(
                [
                    "=mPREFETDE LA LOIRE-ATLANTIQUE",
                    "Arrêté n° 2025-DDTM-0077 portant déclaration d'utilité publique des travaux",
                    "de dérivation des eaux et instaurant les périmètres de protection du captage",
                    "de la Roche",
                    "Le préfet de la Loire-Atlantique,",
                    "Vu le code de la santé publique, notamment son article L. 1321-2 ;",
                    "ARRÊTE",
                    "Article 1er : Sont instaurés autour du captage de la Roche un périmètre de",
                    "protection immédiate et un périmètre de protection rapprochée.",
                    "Fait à Nantes, le 18 novembre 2025",
                ]
            ),
        ],
        [
            ExpectedAct("2025-CAB-720", f"Arrêté préfectoral {drone_title}", 3, 4, ("drone",)),
            ExpectedAct(
                "2025/BPA/0311",
                "Arrêté portant autorisation d'un système de vidéoprotection - commune de "
                "Saint-Nazaire",
                5,
                5,
                ("videoprotection",),
            ),
            ExpectedAct(
                "2025-DDTM-0077",
                "Arrêté portant déclaration d'utilité publique des travaux de dérivation des "
                "eaux et instaurant les périmètres de protection du captage de la Roche",
                6,
                6,
                (),
            ),
        ],
        (1, 2),
    )


def herault_template() -> Template:
    return Template(
        "herault",
        "Attached file names with their pages, then titles without page numbers",
        [
            Page(
                [
                    "PRÉFET",
                    "DE L'HÉRAULT",
                    "LibertéÉgalitéFraternité",
                    "RECUEIL DES ACTES ADMINISTRATIFS",
                    "Recueil spécial n°176 du 09 septembre 2025",
                ]
            ),
            Page(
                [
                    "PREF34 BSI_AP 2025 09 DS 0585_ captation images sur aé ronef_08 09 2025 3",
                    "PREF34 CAB_AP 2025 09 DS 0590_ supporters_08 09 2025 5",
                    "Cabinet du préfet",
                    "Arrêté n°2025-09-DS-0585 Autorisant la captation, l'enregistrement et la",
                    "transmission d'images au moyen de caméras installées sur des aéronefs",
                    "Arrêté n°2025-09-DS-0590 instituant un périmètre au sein duquel la présence",
                    "de certaines catégories de supporters est réglementée",
                ]
            ),
            Page(
                [
                    "PRÉFET DE L'HÉRAULT",
                    "Cabinet du préfet",
                    "Arrêté n°2025-09-DS-0585",
                    "AUTORISANT LA CAPTATION, L'ENREGISTREMENT ET LA TRANSMISSION D'IMAGES",
                    "AU MOYEN DE CAMERASINSTALLEES SUR DES AERONEFS",
                    "Le préfet de l'Hérault,",
                    "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à",
                    "L. 242-8 ;",
                    "Vu la demande du directeur départemental de la sécurité publique ;",
                    "Considérant le festival organisé à Montpellier les 12 et 13 septembre 2025 ;",
                    "ARRÊTE",
                    "Article 1er : La captation,l'enregistrement et la transmission d'images",
                    "au moyen de camérasinstallées sur des aéronefs sont autorisés à Montpellier.",
                ]
            ),
            Page(
                [
                    "Article 2 : Le présent arrêté est publié au recueil des actes administratifs.",
                    "Fait à Montpellier, le 8 septembre 2025",
                    "Le préfet",
                ]
            ),
            Page(
                [
                    "PRÉFET DE L'HÉRAULT",
                    "Arrêté n°2025-09-DS-0590",
                    "instituant un périmètre au sein duquel la présence de certaines catégories",
                    "de supporters est réglementée",
                    "Le préfet de l'Hérault,",
                    "Vu le code du sport, notamment son article L. 332-16-2 ;",
                    "Considérant le match Montpellier - Nîmes du 13 septembre 2025 ;",
                    "ARRÊTE",
                    "Article 1er : Il est interdit à toute personne se prévalant de la qualité",
                    "de supporter du Nîmes Olympique de circuler dans le périmètre défini en annexe.",
                    "Fait à Montpellier, le 8 septembre 2025",
                ]
            ),
        ],
        [
            ExpectedAct(
                "2025-09-DS-0585",
                "Arrêté AUTORISANT LA CAPTATION, L'ENREGISTREMENT ET LA TRANSMISSION D'IMAGES AU "
                "MOYEN DE CAMERASINSTALLEES SUR DES AERONEFS",
                3,
                4,
                ("drone",),
            ),
            ExpectedAct(
                "2025-09-DS-0590",
                "Arrêté instituant un périmètre au sein duquel la présence de certaines "
                "catégories de supporters est réglementée",
                5,
                5,
                (),
            ),
        ],
        (1, 2),
    )


def alpes_maritimes_template() -> Template:
    return Template(
        "alpes-maritimes",
        "Before 2026: a cover, then the acts at once, no sommaire",
        [
            Page(
                [
                    "RÉPUBLIQUE FRANÇAISE",
                    "PRÉFET DES ALPES-MARITIMES",
                    "Recueil spécial 211.2025 - édition du 19/08/2025",
                    "IMPRIMERIE PRÉFECTURE",
                    "ISSN 0753 - 0552",
                ]
            ),
            Page(
                [
                    "PRÉFET DES ALPES-MARITIMES",
                    "Cabinet du préfet",
                    "Arrêté n° 2025-128-016 portant autorisation de captation, d'enregistrement",
                    "et de transmission d'images au moyen d'une caméra installée sur un",
                    "hélicoptère de la gendarmerie nationale",
                    "Le préfet des Alpes-Maritimes,",
                    "Vu le code de la sécurité intérieure, notamment son article L. 242-5 ;",
                    "Vu la demande du groupement de gendarmerie départementale ;",
                    "Considérant la fête du 15 août à Antibes ;",
                    "ARRÊTE",
                    "Article 1er : La captation, l'enregistrement et la transmission d'images au",
                    "moyen d'une caméra installée sur un hélicoptère sont autorisés à Antibes.",
                ]
            ),
            Page(
                [
                    "Article 2 : Une seule caméra est employée.",
                    "Fait à Nice, le 14 août 2025",
                    "Le préfet",
                ]
            ),
            Page(
                [
                    "PRÉFET DES ALPES-MARITIMES",
                    "Arrêté n° 2025-DZT-0043 portant création d'une Zone Délimitée temporaire",
                    "sur l'Aéroport de Nice-Côte d'Azur",
                    "Le préfet des Alpes-Maritimes,",
                    "Vu le code des transports ;",
                    "Vu le code de l'aviation civile ;",
                    "ARRÊTE",
                    "Article 1er : Une zone délimitée temporaire est créée sur l'aéroport pour la",
                    "manifestation aérienne du 18 août 2025.",
                    "Fait à Nice, le 12 août 2025",
                ]
            ),
        ],
        [
            ExpectedAct(
                "2025-128-016",
                "Arrêté portant autorisation de captation, d'enregistrement et de transmission "
                "d'images au moyen d'une caméra installée sur un hélicoptère de la gendarmerie "
                "nationale",
                2,
                3,
                ("drone",),
            ),
            ExpectedAct(
                "2025-DZT-0043",
                "Arrêté portant création d'une Zone Délimitée temporaire sur l'Aéroport de "
                "Nice-Côte d'Azur",
                4,
                4,
                (),
            ),
        ],
        (1,),
    )


def bas_rhin_template() -> Template:
    abrogation = (
        "portant abrogation de l'arrêté préfectoral du 6 juin 2025 autorisant la captation, "
        "l'enregistrement et la transmission d'images au moyen de caméras installées sur des "
        "aéronefs"
    )
    return Template(
        "bas-rhin",
        "« S O M M A I R E » in spaced letters, entries with their signature date",
        [
            Page(
                [
                    "ISSN 0299-0377",
                    "PRÉFECTURE DU BAS-RHIN",
                    "RECUEIL DES ACTES ADMINISTRATIFS DE LA PRÉFECTURE",
                    "ANNÉE 2025",
                    "N° Spécial du 10 juin 2025",
                ]
            ),
            Page(
                [
                    "S O M M A I R E",
                    "INFORMATIONS GENERALES",
                    "ACTES ADMINISTRATIFS",
                    "CABINET DU PRÉFET",
                    "– Arrêté préfectoral portant abrogation de l'arrêté préfectoral du 6 juin 2025",
                    "autorisant la captation, l'enregistrement et la transmission d'images au",
                    "moyen de caméras installées sur des aéronefs / Signature au 10 juin 2025",
                    "– Arrêté préfectoral portant délégation de signature à M. le directeur de",
                    "cabinet / Signature au 10 juin 2025",
                    "- Dépôt légal n° 100524/06 -",
                ]
            ),
            Page(
                [
                    "PRÉFÈTE DU BAS-RHIN",
                    "Arrêté préfectoral du 10 juin 2025",
                    "portant abrogation de l'arrêté préfectoral du 6 juin 2025 autorisant la",
                    "captation, l'enregistrement et la transmission d'images au moyen de caméras",
                    "installées sur des aéronefs",
                    "La préfète du Bas-Rhin,",
                    "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à",
                    "L. 242-8 ;",
                    "Considérant l'annulation du rassemblement prévu le 11 juin 2025 à Strasbourg ;",
                    "ARRÊTE",
                    "Article 1er : L'arrêté du 6 juin 2025 autorisant la captation par des",
                    "caméras installées sur des aéronefs de la police nationale est abrogé.",
                    "Fait à Strasbourg, le 10 juin 2025",
                ]
            ),
            Page(
                [
                    "PRÉFÈTE DU BAS-RHIN",
                    "Arrêté préfectoral portant délégation de signature à M. le directeur de",
                    "cabinet",
                    "La préfète du Bas-Rhin,",
                    "Vu le décret n° 2004-374 du 29 avril 2004 ;",
                    "ARRÊTE",
                    "Article 1er : Délégation de signature est donnée au directeur de cabinet pour",
                    "les arrêtés autorisant la captation d'images au moyen de caméras installées",
                    "sur des aéronefs et les systèmes de vidéoprotection.",
                    "Fait à Strasbourg, le 10 juin 2025",
                ]
            ),
        ],
        [
            ExpectedAct(None, f"Arrêté préfectoral du 10 juin 2025 {abrogation}", 3, 3, ("drone",)),
            ExpectedAct(
                None,
                "Arrêté préfectoral portant délégation de signature à M. le directeur de cabinet",
                4,
                4,
                (),
            ),
        ],
        (1, 2),
    )


def prefecture_de_police_template() -> Template:
    drone = (
        "autorisant la captation, l□enregistrement et la transmission d□images au moyen de "
        "caméras installées sur des aéronefs au-dessus du quartier de la Défense"
    )
    vsa = (
        "portant autorisation de l'emploi dans deux gares d'un traitement algorithmique des "
        "images issues d'un système de vidéoprotection du 14 juillet 2025 au 16 juillet 2025"
    )
    return Template(
        "prefecture-de-police",
        "The Préfecture de police's special bulletin in the Hauts-de-Seine's: a table sommaire",
        [
            Page(
                [
                    "PRÉFET",
                    "DES HAUTS-DE-SEINE",
                    "RECUEIL DES ACTES ADMINISTRATIFS",
                    "PRÉFECTURE DE POLICE",
                    "Cabinet du Préfet",
                    "N° Spécial 15 juillet 2025",
                ]
            ),
            Page(
                [
                    "Arrêtés Date PREFECTURE DE POLICE Page",
                    "PP n° 2025-00906 11.07.2025 Arrêté autorisant la captation, l'enregistrement",
                    "et la transmission d'images au moyen de caméras installées sur des aéronefs 3",
                    "PP n° 2025-00907 11.07.2025 Arrêté portant autorisation de l'emploi dans deux",
                    "gares d'un traitement algorithmique des images 5",
                ]
            ),
            Page(
                [
                    "PRÉFECTURE DE POLICE",
                    "CABINET DU PRÉFET",
                    "Arrêté n°2025-00906",
                    "autorisant la captation, l□enregistrement et la transmission d□images au",
                    "moyen de caméras installées sur des aéronefs au-dessus du quartier de la Défense",
                    "Le préfet de police,",
                    "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à",
                    "L. 242-8 ;",
                    "Considérant la manifestation déclarée le 14 juillet 2025 à Puteaux ;",
                    "ARRÊTE",
                    "Article 1er : La captation, l□enregistrement et la transmission d□images",
                    "par la direction de l□ordre public et de la circulation sont autorisés.",
                ]
            ),
            Page(
                [
                    "Article 2 : Quatre caméras au plus sont employées simultanément.",
                    "Fait à Paris, le 11 juillet 2025",
                    "Le préfet de police",
                ]
            ),
            Page(
                [
                    "PRÉFECTURE DE POLICE",
                    "Arrêté n 2025-00907",
                    "portant autorisation de l'emploi dans deux gares d'un traitement algorithmique",
                    "des images issues d'un système de vidéoprotection du 14 juillet 2025 au",
                    "16 juillet 2025",
                    "Le préfet de police,",
                    "Vu la loi n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques et",
                    "Paralympiques de 2024, notamment son article 10 ;",
                    "Vu le décret n° 2023-828 du 28 août 2023 ;",
                    "ARRÊTE",
                    "Article 1er : L'emploi du traitement algorithmique est autorisé.",
                    "Fait à Paris, le 11 juillet 2025",
                ]
            ),
        ],
        [
            ExpectedAct("2025-00906", f"Arrêté {drone}", 3, 4, ("drone",)),
            ExpectedAct("2025-00907", f"Arrêté {vsa}", 5, 5, ("vsa",)),
        ],
        (1, 2),
    )


def bis_template() -> Template:
    drone = (
        "Arrêté autorisant la captation et la transmission d'images au moyen de caméras "
        "installées sur des aéronefs lors du match Olympique de Marseille - Stade Brestois"
    )
    return Template(
        "bouches-du-rhone-bis",
        "A BIS bulletin: sommaire entries without act ids, the acts right after it",
        [
            Page(
                [
                    "PRÉFET",
                    "DES BOUCHES-DU-",
                    "RHÔNE",
                    "Liberté",
                    "Égalité",
                    "Fraternité",
                    "RECUEIL DES ACTES",
                    "ADMINISTRATIFS SPÉCIAL",
                    "N° 13-2025-054 BIS",
                    "PUBLIE LE 1er JUIN 2025",
                ]
            ),
            Page(
                [
                    "Sommaire",
                    "Cabinet du préfet /",
                    "Arrêté autorisant la captation et la transmission d'images au moyen de",
                    "caméras installées sur des aéronefs lors du match Olympique de Marseille -",
                    "Stade Brestois Page 3",
                    "Arrêté portant autorisation de vols rasants au-dessus de la commune de",
                    "Salon-de-Provence Page 5",
                ]
            ),
            Page(
                [
                    "PRÉFET DES BOUCHES-DU-RHÔNE",
                    "Cabinet du préfet",
                    "Arrêté autorisant la captation et la transmission d'images au moyen de",
                    "caméras installées sur des aéronefs lors du match Olympique de Marseille -",
                    "Stade Brestois",
                    "Le préfet de la région Provence-Alpes-Côte d'Azur, préfet des Bouches-du-Rhône,",
                    "Vu le code de la sécurité intérieure, notamment son article L. 242-5 ;",
                    "Considérant le match du 1er juin 2025 au stade Vélodrome ;",
                    "ARRÊTE",
                    "Article 1er : La captation et la transmission d'images au moyen de caméras",
                    "installées sur des aéronefs sont autorisées aux abords du stade.",
                ]
            ),
            Page(
                [
                    "Article 2 : Deux caméras au plus sont employées simultanément.",
                    "Fait à Marseille, le 31 mai 2025",
                ]
            ),
            Page(
                [
                    "PRÉFET DES BOUCHES-DU-RHÔNE",
                    "Arrêté DUPA n° 2025-0078 portant autorisation de vols rasants au-dessus de la",
                    "commune de Salon-de-Provence",
                    "Le préfet des Bouches-du-Rhône,",
                    "Vu le code de l'aviation civile ;",
                    "Vu le code des transports ;",
                    "ARRÊTE",
                    "Article 1er : Des vols rasants d'aéronefs de la patrouille sont autorisés le",
                    "1er juin 2025 au-dessus de la base aérienne 701.",
                    "Fait à Marseille, le 30 mai 2025",
                ]
            ),
        ],
        [
            ExpectedAct(None, drone, 3, 4, ("drone",)),
            ExpectedAct(
                "2025-0078",
                "Arrêté DUPA portant autorisation de vols rasants au-dessus de la commune de "
                "Salon-de-Provence",
                5,
                5,
                (),
            ),
        ],
        (1, 2),
    )


def standalone_pp_template() -> Template:
    title = (
        "portant autorisation de l□emploi dans deux gares parisiennes d□un traitement "
        "algorithmique des images issues d□un système de vidéoprotection du 27 mai 2024 au "
        "10 juin 2024"
    )
    return Template(
        "standalone-pp",
        "A Préfecture de police VSA order published as its own PDF: one act",
        [
            Page(
                [
                    "PRÉFECTURE DE POLICE",
                    "CABINET DU PRÉFET",
                    "Arrêté n°2024-00512",
                    "portant autorisation de l□emploi dans deux gares parisiennes d□un traitement",
                    "algorithmique des images issues d□un système de vidéoprotection du 27 mai 2024",
                    "au 10 juin 2024",
                    "Le préfet de police,",
                    "Vu la loi n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques et",
                    "Paralympiques de 2024, notamment son article 10 ;",
                    "Vu le décret n° 2023-828 du 28 août 2023 ;",
                    "Considérant les concerts prévus à Paris ;",
                    "ARRÊTE",
                    "Article 1er – L□emploi d□un traitement algorithmique des images est autorisé",
                    "en gare de Lyon et en gare du Nord.",
                ]
            ),
            Page(["Article 2 – Le présent arrêté est publié.", "Fait à Paris, le 24 mai 2024"]),
        ],
        [ExpectedAct("2024-00512", f"Arrêté {title}", 1, 2, ("vsa",))],
        (),
    )


def standalone_gironde_template() -> Template:
    title = (
        "Arrêté d'autorisation de captation, enregistrement et de transmission de survol de "
        "drones pour l'agglomération bordelaise"
    )
    return Template(
        "standalone-gironde",
        "A drone order alone in its PDF, in Gironde's wording (« survol de drones »)",
        [
            Page(
                [
                    "PRÉFET",
                    "DE LA GIRONDE",
                    "Arrêté d'autorisation de captation, enregistrement et de transmission de",
                    "survol de drones pour l'agglomération bordelaise",
                    "Le préfet de la région Nouvelle-Aquitaine, préfet de la Gironde,",
                    "Vu le code de la sécurité intérieure, notamment ses articles L. 242-1 à",
                    "L. 242-8 ;",
                    "Vu la demande de la direction interdépartementale de la police nationale ;",
                    "ARRÊTE",
                    "Article 1er : La direction interdépartementale de la police nationale est",
                    "autorisée au survol de drones PN sur BORDEAUX le 8 mars 2025.",
                    "Fait à Bordeaux, le 7 mars 2025",
                ]
            )
        ],
        [ExpectedAct(None, title, 1, 1, ("drone",))],
        (),
    )


TEMPLATES: dict[str, Callable[[], Template]] = {
    "etat": state_template,
    "loire-atlantique": loire_atlantique_template,
    "herault": herault_template,
    "alpes-maritimes": alpes_maritimes_template,
    "bas-rhin": bas_rhin_template,
    "prefecture-de-police": prefecture_de_police_template,
    "bouches-du-rhone-bis": bis_template,
    "standalone-pp": standalone_pp_template,
    "standalone-gironde": standalone_gironde_template,
}


# The département each template's administration is in (for bulletins built of their acts).
DEPARTMENTS = {
    "etat": "13",
    "loire-atlantique": "44",
    "herault": "34",
    "alpes-maritimes": "06",
    "bas-rhin": "67",
    "prefecture-de-police": "92",
    "bouches-du-rhone-bis": "13",
    "standalone-pp": "75",
    "standalone-gironde": "33",
}


def corpus_acts() -> list[CorpusAct]:
    """Every template's acts as labelled acts (their own pages: no separator, no footer), to
    lay them out again in ``bench.bulletins``' bulletins (``bench.evaluate --template-acts``)."""
    acts = []
    for name, make in TEMPLATES.items():
        template = make()
        for number, expected in enumerate(template.acts, start=1):
            own = template.pages[expected.page_start - 1 : expected.page_end]
            text = "\n".join(line for page in own if not page.separator for line in page.lines)
            acts.append(
                CorpusAct(f"{name}-{number}", expected.categories, DEPARTMENTS[name], "", text)
            )
    return acts


def render(template: Template, path: Path) -> None:
    """One PDF page per template page, each line as written (long ones wrap)."""
    pdf = FPDF(format="A4")
    for style, file in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        pdf.add_font("DejaVu", style, str(FONT_DIR / file))
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(False)
    for page in template.pages:
        pdf.add_page()
        pdf.set_font("DejaVu", "", 10.5)
        for line in page.lines:
            if not line:
                pdf.ln(4)
                continue
            pdf.multi_cell(0, 6, line, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if page.footer:
            pdf.set_y(-32)
            pdf.set_font("DejaVu", "", 9)
            for line in page.footer:
                pdf.multi_cell(0, 5, line, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.output(str(path))


def build(
    template: Template, path: Path, *, scanned: bool | Sequence[int] = False, dpi: int = 200
) -> BuiltTemplate:
    """The template's PDF: born-digital, every page scanned (``True``), or the given pages
    (1-based) scanned among born-digital ones, as signed paper acts inside a bulletin."""
    path.parent.mkdir(parents=True, exist_ok=True)
    render(template, path)
    pages = tuple(range(1, len(template.pages) + 1)) if scanned is True else tuple(scanned or ())
    if pages:
        scan_pages(path, pages, dpi=dpi, seed=len(template.name))
    return BuiltTemplate(template, path, pages)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PDFs")
    parser.add_argument("--scanned", action="store_true", help="rasterised, damaged pages")
    arguments = parser.parse_args(argv)
    for name, make in TEMPLATES.items():
        kind = "scanned" if arguments.scanned else "born-digital"
        built = build(make(), arguments.out / f"{name}-{kind}.pdf", scanned=arguments.scanned)
        built.path.with_suffix(".json").write_text(
            json.dumps(built.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        print(f"{built.path}  {len(built.template.pages)} pages")


if __name__ == "__main__":
    main()
