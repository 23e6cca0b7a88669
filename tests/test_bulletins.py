"""The bulletin builder's PDFs match the ground truth it returns."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from bench.bulletins import build_bulletin, load_corpus, main, parse_act


def page_texts(path: Path) -> list[str]:
    with pdfium.PdfDocument(path) as document:
        return [page.get_textpage().get_text_range().replace("\r\n", "\n") for page in document]


def test_corpus_headers_are_parsed() -> None:
    acts = {act.name: act for act in load_corpus()}

    assert acts["04-vsa-and-drone"].categories == ("vsa", "drone")
    assert acts["04-vsa-and-drone"].department == "06"
    assert acts["09-neg-captage-eau"].categories == ()
    assert acts["09-neg-captage-eau"].text.startswith("PRÉFET DE LA DRÔME")
    with pytest.raises(ValueError, match="no '---' line"):
        parse_act("bad", "categories: drone\n")


def test_born_digital_layout_matches_the_ground_truth(tmp_path: Path) -> None:
    acts = load_corpus()
    bulletin = build_bulletin(acts, tmp_path / "raa.pdf")
    texts = page_texts(bulletin.path)

    assert len(texts) == bulletin.page_count
    assert bulletin.kind == "born-digital"
    assert "RECUEIL DES ACTES" in texts[0]
    assert "SPÉCIAL N° 13-2024-178" in texts[0]
    assert "PUBLIÉ LE 11 JUILLET 2024" in texts[0]
    sommaire = "\n".join(texts[p - 1] for p in bulletin.sommaire_pages)
    assert "Sommaire" in sommaire
    assert bulletin.acts[0].page_start == bulletin.sommaire_pages[-1] + 1
    for act, following in zip(bulletin.acts, bulletin.acts[1:], strict=False):
        assert following.page_start == act.page_end + 1
    assert bulletin.acts[-1].page_end == bulletin.page_count
    assert any(a.page_end > a.page_start for a in bulletin.acts), "no act flows over pages"
    for act in bulletin.acts:
        first_page = texts[act.page_start - 1]
        assert first_page.lstrip().splitlines()[1].startswith(act.number)  # after the header
        assert "PRÉF" in first_page
        assert f"Page {act.page_start}" in sommaire
        assert f"Page {act.page_start} / {bulletin.page_count}" in first_page
    drone = next(a for a in bulletin.acts if a.source == "01-drone-manifestation")
    assert drone.number == "13-2024-07-10-00003"
    assert drone.categories == ("drone",)
    assert bulletin.act_on_page(drone.page_start) == drone
    assert bulletin.act_on_page(1) is None


def test_scanned_pages_have_no_text_layer(tmp_path: Path) -> None:
    acts = load_corpus()[:2]
    bulletin = build_bulletin(acts, tmp_path / "mixed.pdf", scanned=[1, 3], scan_dpi=100)
    texts = page_texts(bulletin.path)

    assert bulletin.kind == "mixed"
    assert bulletin.scanned_pages == (1, 3)
    assert texts[0].strip() == ""
    assert texts[2].strip() == ""
    assert "Sommaire" in texts[1]
    with pdfium.PdfDocument(bulletin.path) as document:
        width, height = document.get_page_size(2)
    assert (round(width), round(height)) == (595, 842)  # still A4


def test_cli_writes_samples_with_their_truth(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    main(["--out", str(tmp_path)])

    for name in ("born-digital", "scanned", "mixed"):
        truth = json.loads((tmp_path / f"{name}.json").read_text())
        assert truth["kind"] == name
        assert truth["page_count"] == len(page_texts(tmp_path / f"{name}.pdf"))
        assert truth["acts"][0]["categories"] == ["drone"]
    assert "born-digital.pdf" in capsys.readouterr().out
