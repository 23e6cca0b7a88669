"""DSFR markup for the engine tests' small made-up sites: a card linking a page, a download
link with the ``fr-link__detail`` date."""

from __future__ import annotations


def card(title: str, href: str, detail: str = "") -> str:
    published = f'<p class="fr-card__detail">{detail}</p>' if detail else ""
    return (
        '<div class="fr-card"><div class="fr-card__body"><h2 class="fr-card__title">'
        f'<a href="{href}">{title}</a></h2>{published}</div></div>'
    )


def pdf(name: str, date: str) -> str:
    return (
        f'<a class="fr-link fr-link--download" href="/contenu/telechargement/1/2/file/{name}">'
        f'{name} <span class="fr-link__detail">PDF - 1 Mb - {date}</span></a>'
    )
