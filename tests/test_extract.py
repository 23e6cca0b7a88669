"""Extraction on real PDFs built by bench.bulletins, read by real pdfium and real tesseract."""

from __future__ import annotations

import difflib
import random
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF

from attrap.config import Settings
from attrap.documents.extract import ExtractionError, extract_document
from bench.bulletins import Bulletin, CorpusAct, build_bulletin, load_corpus

NOISE = random.Random(4).randbytes(50_000)


@pytest.fixture(scope="module")
def corpus() -> dict[str, CorpusAct]:
    return {act.name[:2]: act for act in load_corpus()}


@pytest.fixture(scope="module")
def born_digital(
    corpus: dict[str, CorpusAct], tmp_path_factory: pytest.TempPathFactory
) -> Bulletin:
    out = tmp_path_factory.mktemp("bulletins") / "born-digital.pdf"
    return build_bulletin([corpus["01"], corpus["05"], corpus["09"]], out)


@pytest.fixture(scope="module")
def mixed(corpus: dict[str, CorpusAct], tmp_path_factory: pytest.TempPathFactory) -> Bulletin:
    """Act 01 (drone) starts on page 3, which is scanned; every other page is born-digital."""
    out = tmp_path_factory.mktemp("bulletins") / "mixed.pdf"
    bulletin = build_bulletin([corpus["01"], corpus["09"]], out, scanned=[3])
    assert bulletin.acts[0].page_start == 3
    return bulletin


def settings(**sections: dict[str, object]) -> Settings:
    return Settings.model_validate(sections)


def contains_word(text: str, word: str) -> bool:
    """True if the text holds the word, allowing an OCR slip or two."""
    words = text.lower().replace("’", "'").replace("'", " ").split()
    return bool(difflib.get_close_matches(word, words, n=1, cutoff=0.8))


def test_born_digital_pages_come_from_the_text_layer(born_digital: Bulletin) -> None:
    extraction = extract_document(born_digital.path, settings())

    assert [p.number for p in extraction.pages] == list(range(1, born_digital.page_count + 1))
    assert {p.source for p in extraction.pages} == {"text-layer"}
    assert extraction.warnings == []
    assert "RECUEIL DES ACTES" in extraction.pages[0].text
    drone = born_digital.acts[0]
    assert "aéronefs" in extraction.pages[drone.page_start - 1].text
    assert "Page 2 / " in extraction.pages[1].text
    water = born_digital.acts[2]
    assert "captage du Pré de la Dame" in extraction.pages[water.page_start - 1].text.replace(
        "\n", " "
    )


def test_mixed_bulletin_ocrs_only_the_scanned_page(mixed: Bulletin) -> None:
    extraction = extract_document(mixed.path, settings(ocr={"workers": 2}))

    sources = {p.number: p.source for p in extraction.pages}
    assert sources.pop(3) == "ocr"
    assert set(sources.values()) == {"text-layer"}
    assert extraction.ocr_pages == 1
    assert extraction.warnings == []
    scanned = extraction.pages[2].text
    assert contains_word(scanned, "aéronefs")
    assert contains_word(scanned, "captation")


def test_fully_scanned_bulletin_is_read_by_ocr(
    corpus: dict[str, CorpusAct], tmp_path: Path
) -> None:
    bulletin = build_bulletin([corpus["05"]], tmp_path / "scanned.pdf", scanned=True)
    # Low resolution keeps the test quick; reading quality is the mixed test's business.
    extraction = extract_document(bulletin.path, settings(ocr={"dpi": 150}))

    assert extraction.ocr_pages == bulletin.page_count
    act_text = extraction.pages[bulletin.acts[0].page_start - 1].text
    assert contains_word(act_text, "vidéoprotection")


@pytest.mark.parametrize(
    ("ocr", "reason"),
    [
        ({"tesseract": "/nonexistent/tesseract"}, "introuvable"),
        ({"enabled": False}, "OCR désactivée"),
        ({"language": "xyz"}, "données de langue de tesseract non installées : xyz"),
    ],
)
def test_without_usable_ocr_scanned_pages_are_flagged_and_the_rest_read(
    mixed: Bulletin, ocr: dict[str, object], reason: str
) -> None:
    extraction = extract_document(mixed.path, settings(ocr=ocr))

    assert extraction.pages[2].source == "failed"
    assert len(extraction.warnings) == 1
    assert extraction.warnings[0].startswith("page 3 non lue : ")
    assert reason in extraction.warnings[0]
    others = [p for p in extraction.pages if p.number != 3]
    assert {p.source for p in others} == {"text-layer"}
    assert "captage" in extraction.pages[mixed.acts[1].page_start - 1].text


def test_a_page_over_the_ocr_time_limit_fails_alone(mixed: Bulletin) -> None:
    extraction = extract_document(mixed.path, settings(ocr={"page_timeout_s": 0.05}))

    assert extraction.pages[2].source == "failed"
    assert extraction.warnings == ["page 3 : échec de l'OCR : plus de 0.05 s"]
    assert extraction.pages[0].source == "text-layer"


def write_pdf_with_content(path: Path, content: bytes) -> Path:
    """A minimal one-page PDF whose page shows the given (compressed) content stream."""
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    data = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    data += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def text_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 KB on disk, 33 MB of text operators once inflated: seconds and ~600 MB to parse."""
    path = tmp_path_factory.mktemp("hostile") / "bomb.pdf"
    return write_pdf_with_content(path, b"BT /F1 1 Tf 0 0 Td (aaaa) Tj ET\n" * 1_000_000)


def test_a_document_over_the_time_limit_fails_cleanly(text_bomb: Path) -> None:
    with pytest.raises(ExtractionError, match=r"abandonnée après 0.3 s"):
        extract_document(text_bomb, settings(extract={"timeout_s": 0.3}))


def test_a_document_over_the_memory_limit_fails_cleanly(text_bomb: Path) -> None:
    with pytest.raises(ExtractionError, match=r"dépassé ses 200 Mo|plus de 200 Mo"):
        extract_document(text_bomb, settings(extract={"max_memory_mb": 200}))


def test_the_caller_survives_and_goes_on_after_hostile_files(
    text_bomb: Path, born_digital: Bulletin
) -> None:
    with pytest.raises(ExtractionError):
        extract_document(text_bomb, settings(extract={"max_memory_mb": 200}))
    assert len(extract_document(born_digital.path, settings()).pages) == born_digital.page_count


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda good: b"", r"fichier vide \(0 octet\)"),
        (lambda good: good[: len(good) // 2], r"PDF illisible : pdfium : .*pdfminer\.six"),
        (
            lambda good: b"<!DOCTYPE html>\n<html><body>Erreur 404</body></html>\n",
            r"pas un fichier PDF : il commence par '<!DOCTYPE html>",
        ),
        (lambda good: NOISE.replace(b"%PDF-", b""), r"pas un fichier PDF"),
        (lambda good: b"%PDF-1.7\n" + NOISE, r"PDF illisible"),
    ],
    ids=["zero-bytes", "truncated", "html", "random-bytes", "random-after-header"],
)
def test_broken_inputs_raise_extraction_error(
    born_digital: Bulletin, tmp_path: Path, make, message: str
) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(make(born_digital.path.read_bytes()))

    with pytest.raises(ExtractionError, match=message):
        extract_document(broken, settings())


def test_missing_file_raises_extraction_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="impossible d'ouvrir le fichier"):
        extract_document(tmp_path / "absent.pdf", settings())


def test_password_protected_pdf_raises_extraction_error(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Arrêté confidentiel")
    path = tmp_path / "encrypted.pdf"
    pdf.output(str(path))

    with pytest.raises(ExtractionError, match=r"(?i)password"):
        extract_document(path, settings())


def test_pdf_that_pdfium_rejects_is_read_by_pdfminer(
    born_digital: Bulletin, tmp_path: Path
) -> None:
    # Junk before the header: beyond what pdfium tolerates, within what pdfminer.six does.
    shifted = tmp_path / "shifted.pdf"
    shifted.write_bytes(b"X" * 2000 + born_digital.path.read_bytes())

    extraction = extract_document(shifted, settings())

    assert len(extraction.pages) == born_digital.page_count
    assert "lu avec pdfminer.six" in extraction.warnings[0]
    assert "aéronefs" in extraction.pages[born_digital.acts[0].page_start - 1].text
    with pytest.raises(ExtractionError, match="pdfium ne peut pas lire le PDF"):
        extract_document(shifted, settings(extract={"fallback": "none"}))


def test_empty_page_without_image_is_not_sent_to_ocr(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    path = tmp_path / "blank.pdf"
    pdf.output(str(path))

    extraction = extract_document(path, settings(ocr={"enabled": False}))

    assert [(p.source, p.text) for p in extraction.pages] == [("text-layer", "")]
    assert extraction.warnings == []
