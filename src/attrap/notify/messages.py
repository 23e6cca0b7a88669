"""The French texts of notifications: Mastodon statuses, email subjects and bodies.

Hashtags: ``#drone``, ``#VSA`` … for the category and ``#Dept<code>`` for the département
(``#Dept13``, ``#Dept2A``, ``#Dept974``). Codes rather than names because every département has
exactly one code, it reads the same in every hashtag-aware client, and names have competing
spellings (``#BouchesDuRhone``, ``#Bouches_du_Rhône`` …) that split a hashtag's timeline.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from attrap.facts.purposes import PURPOSE_LABELS
from attrap.facts.wording import facts_line, lead_phrase, one_period
from attrap.french import long_date
from attrap.matching.categories import catalogue
from attrap.notify.channel import Alert, HitJson

# Mastodon counts every link as 23 characters, whatever its length.
MASTODON_URL_LENGTH = 23
DEFAULT_MAX_CHARACTERS = 500
_URL = re.compile(r"https?://\S+")
SIGNATURE = "—\nattrap, veille des recueils des actes administratifs des préfectures."


def category_label(category: str) -> str:
    return catalogue().label(category)


def category_hashtag(category: str) -> str:
    return catalogue().hashtag(category)


def department_hashtag(department: str) -> str:
    return f"#Dept{department}"


def french_date(value: str | None) -> str | None:
    """``2024-07-10`` → ``10 juillet 2024`` (``1er`` for the first of the month)."""
    if not value:
        return None
    return long_date(dt.date.fromisoformat(value))


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them: links count 23."""
    text = unicodedata.normalize("NFC", text)
    return len(_URL.sub("x" * MASTODON_URL_LENGTH, text))


def shorten(text: str, excess: int) -> str:
    """``text`` made ``excess`` characters shorter, ending with an ellipsis."""
    if excess <= 0:
        return text
    return text[: max(len(text) - excess - 1, 0)].rstrip() + "…"


def one_line(text: str) -> str:
    """Titles extracted from PDFs keep their line breaks; a subject or a status line may not."""
    return " ".join(text.split())


def _act_line(hit: HitJson) -> str:
    act = hit["act"]
    line = f"« {one_line(act['title'])} »" if act["title"] else "Acte sans titre"
    if act["number"]:
        line += f" (n° {act['number']})"
    signed = french_date(act["signed_on"])
    published = french_date(hit["document"]["published_on"])
    if signed:
        line += f", signé le {signed}"
    elif published:
        line += f", publié le {published}"
    return line


def hashtags(hits: Sequence[HitJson]) -> list[str]:
    """Category tags (most frequent first), then département tags, without repeats."""
    categories = Counter(hit["category"] for hit in hits)
    departments = Counter(hit["department"] for hit in hits if hit["department"])
    return [category_hashtag(c) for c, _ in categories.most_common()] + [
        department_hashtag(d) for d, _ in departments.most_common()
    ]


def summary_line(hit: HitJson) -> str:
    """« Drone · Lyon, Villeurbanne · jeudi 1er mai, 9 h–22 h · DIPN du Rhône · 4 caméras ·
    publié 14 h avant le début »; "" when the act's facts say nothing."""
    year = int(hit["first_seen_at"][:4])
    return facts_line(hit.get("facts"), category_label(hit["category"]), reference_year=year)


def status_text(hit: HitJson, max_characters: int = DEFAULT_MAX_CHARACTERS) -> str:
    """A Mastodon status for one hit, within the instance's character limit."""
    summary = summary_line(hit)
    administration = hit["administration"]["name"]
    header = summary or f"{category_label(hit['category'])} — {administration}"
    tags = " ".join(hashtags([hit]))
    act_line = f"{administration} : {_act_line(hit)}" if summary else _act_line(hit)

    def compose(act: str) -> str:
        return "\n".join([header, act, hit["link"], tags])

    # Only the act line gives way; it holds no link, so shortening it by the excess is exact.
    excess = mastodon_length(compose(act_line)) - max_characters
    return compose(shorten(act_line, excess))


def digest_headline(hits: Sequence[HitJson]) -> str:
    count = len(hits)
    noun = "nouvelle détection" if count == 1 else "nouvelles détections"
    return f"{count} {noun} dans les recueils des actes administratifs"


def _category_counts(hits: Sequence[HitJson]) -> str:
    counts = Counter(hit["category"] for hit in hits)
    return " · ".join(f"{category_label(c)} : {n}" for c, n in counts.most_common())


def digest_status_text(
    hits: Sequence[HitJson], max_characters: int = DEFAULT_MAX_CHARACTERS
) -> str:
    """One Mastodon status for a burst of hits: counts, as many links as fit, hashtags."""
    head = [digest_headline(hits), _category_counts(hits)]
    items = [
        f"• {hit['department'] or hit['administration']['code']} · "
        f"{category_label(hit['category'])} · {hit['link']}"
        for hit in hits
    ]
    tags = hashtags(hits)

    def compose(shown: int, tag_count: int) -> str:
        lines = head + items[:shown]
        if shown < len(items):
            lines.append(f"… et {len(items) - shown} autres")
        lines.append(" ".join(tags[:tag_count]))
        return "\n".join(lines)

    # Category tags first, then as many département tags and links as the limit allows.
    category_tags = len({hit["category"] for hit in hits})
    tag_count = len(tags)
    while tag_count > category_tags and mastodon_length(compose(0, tag_count)) > max_characters:
        tag_count -= 1
    shown = 0
    while shown < len(items) and mastodon_length(compose(shown + 1, tag_count)) <= max_characters:
        shown += 1
    return compose(shown, tag_count)


def hit_details(hit: HitJson) -> str:
    """A plain-text description of one hit, for emails."""
    act = hit["act"]
    document = hit["document"]
    administration = hit["administration"]
    where = administration["name"]
    if hit["department"]:
        where += f" (département {hit['department']})"
    lines = [f"En bref : {summary}"] if (summary := summary_line(hit)) else []
    lines += [
        f"Catégorie : {category_label(hit['category'])}",
        f"Administration : {where}",
        f"Acte : {act['title'] or 'sans titre'}",
    ]
    if act["number"]:
        lines.append(f"Numéro : {act['number']}")
    if act["signed_on"]:
        lines.append(f"Signé le : {french_date(act['signed_on'])}")
    recueil = document["title"] or document["url"]
    if document["published_on"]:
        recueil += f", publié le {french_date(document['published_on'])}"
    lines += [
        f"Recueil : {recueil}",
        f"Pages : {act['page_start']} à {act['page_end']}",
        f"Lien : {hit['link']}",
    ]
    lines += _facts_details(hit.get("facts"))
    if hit["terms"]:
        lines.append(f"Termes repérés : {', '.join(hit['terms'])}")
    if hit["snippet"]:
        lines += ["", "Extrait :", f"« {hit['snippet']} »"]
    return "\n".join(lines)


def _facts_details(facts: dict[str, Any] | None) -> list[str]:
    """What the act authorises, field by field (every period, every commune with its code)."""
    if not facts:
        return []
    lines = [f"Période : {one_period(period)}" for period in facts["periods"]]
    if facts["communes"]:
        named = [
            f"{c['name']} ({c['insee']})" if c["insee"] else c["name"] for c in facts["communes"]
        ]
        lines.append(f"Communes : {', '.join(named)}")
    if facts.get("perimeter"):
        lines.append(f"Périmètre : {facts['perimeter']}")
    if facts.get("operator"):
        lines.append(f"Service : {facts['operator']['name']}")
    if facts.get("max_cameras"):
        lines.append(f"Caméras au plus : {facts['max_cameras']}")
    if facts.get("purposes"):
        labels = [PURPOSE_LABELS.get(code, code) for code in facts["purposes"]]
        lines.append(f"Finalités : {', '.join(labels)}")
    if facts.get("event"):
        lines.append(f"Événement : {facts['event']}")
    if lead := lead_phrase(facts.get("publication")):
        lines.append(f"Publication : {lead}")
    return lines


def email_subject(hit: HitJson) -> str:
    title = one_line(hit["act"]["title"]) or "acte sans titre"
    subject = f"{category_label(hit['category'])} — {hit['administration']['name']} : {title}"
    return shorten(subject, len(subject) - 160)


def email_body(hit: HitJson) -> str:
    intro = "Un acte administratif correspondant à votre veille a été publié."
    return f"{intro}\n\n{hit_details(hit)}\n\n{SIGNATURE}\n"


def digest_email_subject(hits: Sequence[HitJson]) -> str:
    return digest_headline(hits)


def digest_email_body(hits: Sequence[HitJson]) -> str:
    sections = [f"{digest_headline(hits)}.", _category_counts(hits)]
    for number, hit in enumerate(hits, start=1):
        sections.append(f"{number}.\n{hit_details(hit)}")
    return "\n\n".join(sections) + f"\n\n{SIGNATURE}\n"


def sample_hit() -> HitJson:
    """An example hit for ``attrap notify test``: the JSON shape, clearly labelled as a test."""
    return {
        "id": 0,
        "category": "drone",
        "score": 1.0,
        "administration": {"code": "13", "name": "Préfecture des Bouches-du-Rhône"},
        "department": "13",
        "act": {
            "number": "13-2024-07-10-00003",
            "title": "Message de test d'attrap — arrêté autorisant la captation d'images au "
            "moyen de caméras installées sur des aéronefs",
            "signed_on": "2024-07-10",
            "page_start": 12,
            "page_end": 14,
        },
        "document": {
            "url": "https://www.bouches-du-rhone.gouv.fr/exemple/RAA-13-2024-123.pdf",
            "title": "RAA n°13-2024-123 (exemple)",
            "published_on": "2024-07-12",
            "sha256": None,
        },
        "page": 12,
        "link": "https://www.bouches-du-rhone.gouv.fr/exemple/RAA-13-2024-123.pdf#page=12",
        "terms": ["caméras installées sur des aéronefs", "L. 242-5"],
        "snippet": "… autorisant la captation, l'enregistrement et la transmission d'images au "
        "moyen de caméras installées sur des aéronefs …",
        "first_seen_at": "2024-07-12T09:14:03Z",
    }


ALERT_TITLES = {
    ("failing", "opened"): "{name} : les passages échouent",
    ("moved", "opened"): "{name} : la page de départ a changé",
    ("silent", "opened"): "{name} : la liste des recueils est vide",
    ("late", "opened"): "{name} : aucun recueil depuis longtemps",
}


def alert_subject(name: str, kind: str, event: str) -> str:
    """The subject of a maintainer alert: what happened to which administration."""
    if event == "resolved":
        return f"Rétabli — {name}"
    return "Alerte — " + ALERT_TITLES[(kind, "opened")].format(name=name)


def alert_body(name: str, code: str, detail: str, event: str, opened_at: dt.datetime) -> str:
    since = long_date(opened_at.date())
    if event == "resolved":
        lead = f"{name} ({code}) fonctionne de nouveau : le problème signalé le {since} a disparu."
        return f"{lead}\n\nProblème : {detail}\n\n{SIGNATURE}"
    advice = (
        f"Vérifier l'adaptateur : attrap adapters check {code} ; "
        f"l'état de chaque administration : attrap status."
    )
    return f"{name} ({code}) : {detail}\n\n{advice}\n\n{SIGNATURE}"


def alert_status_text(alert: Alert, max_characters: int = DEFAULT_MAX_CHARACTERS) -> str:
    """A maintainer alert as a Mastodon status, within the instance's limit."""
    text = f"{alert.subject}\n\n{alert.text}"
    return shorten(text, mastodon_length(text) - max_characters)
