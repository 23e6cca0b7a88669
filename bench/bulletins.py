"""Realistic RAA bulletins built from labelled acts, with their ground truth.

A bulletin is laid out like a prefecture's *recueil des actes administratifs*: a cover page, a
*sommaire* listing every act with its page, then the acts, each starting on a new page under a
"PRÉFET DE …" heading and its number line, with a running header and page numbers in the footer.
It comes born-digital (a text layer, DejaVu fonts) or scanned (pages rasterised, slightly
rotated, blurred, noisy and JPEG-compressed, as an image-only PDF), or mixed.

    python -m bench.bulletins --out DIR [--large]

writes sample PDFs and, beside each, a JSON file with its ground truth.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import io
import itertools
import json
import os
import random
import re
import tempfile
import tomllib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import img2pdf
import numpy as np
import pypdfium2 as pdfium
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.errors import FPDFException
from PIL import Image, ImageFilter

REPOSITORY = Path(__file__).resolve().parent.parent
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian fonts-dejavu-core
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
_ACT_NUMBER = re.compile(r"\bn°\s*([0-9][0-9A-Za-z-]*[0-9])", re.IGNORECASE)
_TITLE_START = re.compile(r"^arrêté\b", re.IGNORECASE)
# Closes most real acts; it lengthens them so that some flow over two pages.
APPEAL_NOTICE = (
    "Délais et voies de recours : le présent arrêté peut faire l'objet, dans un délai de deux "
    "mois à compter de sa publication, d'un recours gracieux auprès de l'autorité signataire ou "
    "d'un recours contentieux devant le tribunal administratif territorialement compétent. Le "
    "tribunal administratif peut être saisi par l'application « Télérecours citoyens » "
    "accessible sur le site www.telerecours.fr."
)


def default_corpus_dir() -> Path:
    """$ATTRAP_CORPUS_DIR, else the team's shared/corpus/dev beside the repository (it grows),
    else the copy kept in fixtures/ so that a lone clone still tests and evaluates."""
    candidates = [
        Path(os.environ["ATTRAP_CORPUS_DIR"]) if os.environ.get("ATTRAP_CORPUS_DIR") else None,
        REPOSITORY.parent / "shared" / "corpus" / "dev",
        REPOSITORY / "fixtures" / "corpus" / "dev",
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_dir():
            return candidate
    raise FileNotFoundError("corpus of labelled acts not found; set ATTRAP_CORPUS_DIR")


@dataclass(frozen=True)
class CorpusAct:
    """One labelled act of the development corpus."""

    name: str  # file stem, e.g. "01-drone-manifestation"
    categories: tuple[str, ...]  # () for a negative ("none")
    department: str
    note: str
    text: str


def parse_act(name: str, content: str) -> CorpusAct:
    header, separator, text = content.partition("\n---\n")
    if not separator:
        raise ValueError(f"{name}: no '---' line between the header and the act")
    fields: dict[str, str] = {}
    for line in header.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.split("#")[0].strip()
    categories = tuple(c.strip() for c in fields.get("categories", "").split(",") if c.strip())
    return CorpusAct(
        name=name,
        categories=() if categories == ("none",) else categories,
        department=fields.get("department", ""),
        note=fields.get("note", ""),
        text=text.strip(),
    )


def load_corpus(directory: Path | None = None) -> list[CorpusAct]:
    """Every act of the corpus, in file-name order."""
    directory = directory or default_corpus_dir()
    return [
        parse_act(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.txt"))
    ]


@dataclass(frozen=True)
class PlacedAct:
    """Where one act landed in a bulletin, and what it should be found to be."""

    source: str  # the corpus act's name
    number: str
    title: str
    page_start: int  # 1-based, inclusive
    page_end: int
    categories: tuple[str, ...]
    department: str


@dataclass
class Bulletin:
    """A built PDF and its ground truth."""

    path: Path
    number: str  # the bulletin's own number, e.g. "13-2024-178"
    published_on: dt.date
    page_count: int
    sommaire_pages: tuple[int, ...]
    acts: list[PlacedAct]
    scanned_pages: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        if not self.scanned_pages:
            return "born-digital"
        return "scanned" if len(self.scanned_pages) == self.page_count else "mixed"

    def act_on_page(self, page: int) -> PlacedAct | None:
        return next((a for a in self.acts if a.page_start <= page <= a.page_end), None)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.update(path=str(self.path), published_on=self.published_on.isoformat(), kind=self.kind)
        return data


@dataclass(frozen=True)
class _ActLayout:
    act: CorpusAct
    number: str
    title: str


@functools.cache
def _administration_names() -> dict[str, str]:
    names = {}
    for path in (REPOSITORY / "prefectures").glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        names[data["code"]] = data["name"]
    return names


def administration_name(department: str) -> str:
    """'Préfecture des Bouches-du-Rhône', from prefectures/<code>.toml."""
    name = _administration_names().get(department, f"Préfecture du {department}")
    return name.split(" (")[0]


def prefect_heading(department: str) -> str:
    """'PRÉFET DES BOUCHES-DU-RHÔNE'."""
    return re.sub(r"^Préfecture", "Préfet", administration_name(department)).upper()


def french_date(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _title_and_number(act: CorpusAct) -> tuple[str, str | None]:
    lines = [line.strip() for line in act.text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if _TITLE_START.match(line)), None)
    if start is None:
        return lines[0], None
    title = lines[start]
    number_match = _ACT_NUMBER.search(title)
    title = _ACT_NUMBER.sub("", title).strip()
    # "ARRÊTÉ PRÉFECTORAL N° …" alone on its line: the subject follows on the next one.
    if len(title) < 40 and start + 1 < len(lines):
        title = f"{title} {lines[start + 1]}"
    title = re.sub(r"\s+", " ", title)
    return title, number_match.group(1) if number_match else None


class _BulletinPdf(FPDF):
    def __init__(self, running_header: str) -> None:
        super().__init__(format="A4")
        self.running_header = running_header
        for style, file in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
            self.add_font("DejaVu", style, str(FONT_DIR / file))
        self.set_margins(25, 25, 25)
        self.set_auto_page_break(True, margin=25)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("DejaVu", "", 7.5)
        self.set_text_color(90)
        self.set_y(10)
        self.cell(0, 4, self.running_header, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(150)
        self.line(self.l_margin, 15, self.w - self.r_margin, 15)
        self.set_text_color(0)
        self.set_y(25)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-14)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(90)
        self.cell(0, 5, f"Page {self.page_no()} / {{nb}}", align=Align.C)
        self.set_text_color(0)


def _write_cover(pdf: _BulletinPdf, heading: str, number: str, published_on: dt.date) -> None:
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, heading, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(110)
    pdf.set_font("DejaVu", "B", 22)
    pdf.multi_cell(0, 11, "RECUEIL DES ACTES\nADMINISTRATIFS", align=Align.C, new_x=XPos.LMARGIN)
    pdf.ln(6)
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 9, f"SPÉCIAL N° {number}", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 13)
    pdf.cell(
        0,
        9,
        f"PUBLIÉ LE {french_date(published_on).upper()}",
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def _write_act(
    pdf: _BulletinPdf, layout: _ActLayout, heading: str, *, new_page: bool
) -> tuple[int, int]:
    if new_page:
        pdf.add_page()
    start = pdf.page_no()
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(0, 5, f"{layout.number} - {layout.title}", align=Align.L, new_x=XPos.LMARGIN)
    pdf.ln(5)
    lines = layout.act.text.splitlines()
    if not lines[0].upper().startswith(("PRÉFET", "PRÉFECTURE")):
        lines = [heading, "", *lines]
    for line in lines:
        text = line.strip()
        if not text:
            pdf.ln(3)
            continue
        if text.isupper() or _TITLE_START.match(text):
            pdf.set_font("DejaVu", "B", 11)
            align = Align.C if text.isupper() and len(text) < 30 else Align.L
        else:
            pdf.set_font("DejaVu", "", 11)
            align = Align.J
        pdf.multi_cell(0, 6, text, align=align, new_x=XPos.LMARGIN)
        pdf.ln(2)
    pdf.ln(8)
    pdf.set_font("DejaVu", "", 8.5)
    pdf.multi_cell(0, 4.5, APPEAL_NOTICE, align=Align.J, new_x=XPos.LMARGIN)
    return start, pdf.page_no()


def _render_born_digital(
    path: Path,
    layouts: Sequence[_ActLayout],
    department: str,
    number: str,
    published_on: dt.date,
    sommaire_page_count: int,
) -> tuple[list[PlacedAct], int]:
    heading = prefect_heading(department)
    pdf = _BulletinPdf(
        f"{administration_name(department)} — recueil des actes administratifs "
        f"spécial n° {number} du {french_date(published_on)}"
    )
    placed: list[PlacedAct] = []

    def write_sommaire(pdf: FPDF, _outline: object) -> None:
        pdf.set_x(pdf.l_margin)
        pdf.set_font("DejaVu", "B", 15)
        pdf.cell(0, 10, "Sommaire", align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(3)
        for act in placed:
            pages = act.page_end - act.page_start + 1
            pdf.set_font("DejaVu", "B", 9)
            pdf.cell(0, 5, act.number, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("DejaVu", "", 9)
            pdf.multi_cell(
                140,
                4.5,
                f"{act.title} ({pages} page{'s' if pages > 1 else ''})",
                align=Align.L,
                new_x=XPos.RIGHT,
                new_y=YPos.LAST,
            )
            pdf.cell(0, 4.5, f"Page {act.page_start}", align=Align.R)
            pdf.ln(7)

    _write_cover(pdf, heading, number, published_on)
    pdf.add_page()
    # The placeholder leaves us on a fresh page, where the first act starts.
    pdf.insert_toc_placeholder(write_sommaire, pages=sommaire_page_count)
    for index, layout in enumerate(layouts):
        start, end = _write_act(pdf, layout, heading, new_page=index > 0)
        placed.append(
            PlacedAct(
                source=layout.act.name,
                number=layout.number,
                title=layout.title,
                page_start=start,
                page_end=end,
                categories=layout.act.categories,
                department=layout.act.department,
            )
        )
    pdf.output(str(path))
    return placed, pdf.page_no()


def _sommaire_pages_guess(act_count: int) -> int:
    return max(1, round(act_count / 13))


def _layouts(acts: Sequence[CorpusAct], department: str, signed_on: dt.date) -> list[_ActLayout]:
    layouts = []
    for sequence, act in enumerate(acts, start=1):
        title, number = _title_and_number(act)
        generated = f"{department}-{signed_on:%Y-%m-%d}-{sequence:05d}"
        layouts.append(_ActLayout(act, number or generated, title))
    return layouts


def build_bulletin(
    acts: Sequence[CorpusAct],
    out: Path,
    *,
    scanned: bool | Collection[int] = False,
    department: str | None = None,
    number: str = "13-2024-178",
    published_on: dt.date = dt.date(2024, 7, 11),
    scan_dpi: int = 200,
    seed: int = 0,
) -> Bulletin:
    """Write a bulletin of these acts to ``out`` and return its ground truth.

    ``scanned``: False for born-digital, True to scan every page, or the 1-based numbers of the
    pages to scan (a mixed bulletin). ``department`` defaults to the first act's.
    """
    if not acts:
        raise ValueError("a bulletin needs at least one act")
    department = department or acts[0].department
    layouts = _layouts(acts, department, published_on - dt.timedelta(days=1))
    out.parent.mkdir(parents=True, exist_ok=True)
    # The sommaire is written last, once acts are placed, into pages reserved for it: when the
    # guess is wrong, fpdf2 says where it ended and the bulletin is laid out again.
    sommaire_page_count = _sommaire_pages_guess(len(acts))
    while True:
        try:
            placed, page_count = _render_born_digital(
                out, layouts, department, number, published_on, sommaire_page_count
            )
            break
        except FPDFException as exc:
            ended = re.search(r"ToC ended on page (\d+)", str(exc))
            if not ended:
                raise
            sommaire_page_count = int(ended.group(1)) - 1  # it starts on page 2
    bulletin = Bulletin(
        path=out,
        number=number,
        published_on=published_on,
        page_count=page_count,
        sommaire_pages=tuple(range(2, 2 + sommaire_page_count)),
        acts=placed,
    )
    if scanned:
        pages = range(1, page_count + 1) if scanned is True else sorted(set(scanned))
        scan_pages(out, pages, dpi=scan_dpi, seed=seed)
        bulletin = replace(bulletin, scanned_pages=tuple(pages))
    return bulletin


def degrade(image: Image.Image, rng: random.Random) -> Image.Image:
    """A clean page image made to look scanned: skew, blur, sensor noise."""
    angle = rng.uniform(-1.0, 1.0)
    skewed = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    blurred = skewed.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 0.9)))
    pixels = np.asarray(blurred, dtype=np.float32)
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 9, pixels.shape)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8), mode="L")


def scan_pages(path: Path, pages: Iterable[int], *, dpi: int = 200, seed: int = 0) -> None:
    """Replace the given pages (1-based) of the PDF at ``path`` by degraded JPEG scans."""
    rng = random.Random(seed)
    wanted = set(pages)
    with tempfile.TemporaryDirectory(prefix="bulletin-scan-") as scratch:
        source = pdfium.PdfDocument(path)
        scans = []
        for number in sorted(wanted):
            page = source[number - 1]
            image = degrade(page.render(scale=dpi / 72, grayscale=True).to_pil(), rng)
            page.close()
            scan = Path(scratch, f"{number:05d}.jpg")
            image.save(scan, format="JPEG", quality=rng.randint(55, 75), dpi=(dpi, dpi))
            scans.append(scan)
        scanned = pdfium.PdfDocument(io.BytesIO(img2pdf.convert([str(s) for s in scans])))
        result = pdfium.PdfDocument.new()
        scan_index = 0
        for number in range(1, len(source) + 1):
            if number in wanted:
                result.import_pages(scanned, [scan_index])
                scan_index += 1
            else:
                result.import_pages(source, [number - 1])
        with io.BytesIO() as buffer:
            result.save(buffer)
            result.close()
            scanned.close()
            source.close()
            path.write_bytes(buffer.getvalue())


def build_large_bulletin(
    out: Path,
    *,
    pages: int = 600,
    acts: Sequence[CorpusAct] | None = None,
    scanned_every: int = 0,
    scan_dpi: int = 200,
) -> Bulletin:
    """A bulletin of about ``pages`` pages (within a page or two), repeating the corpus acts.

    ``scanned_every``: scan every Nth page (0 = none), for a mixed bulletin.
    """
    acts = acts or load_corpus()
    # Acts start on a new page, so each one's length does not depend on where it lands.
    with tempfile.TemporaryDirectory(prefix="bulletin-measure-") as scratch:
        sample = build_bulletin(acts, Path(scratch, "sample.pdf"))
    act_pages = [a.page_end - a.page_start + 1 for a in sample.acts]
    chosen: list[CorpusAct] = []
    body = 0
    for act, length in itertools.cycle(zip(acts, act_pages, strict=True)):
        if 1 + _sommaire_pages_guess(len(chosen)) + body >= pages:
            break
        chosen.append(act)
        body += length
    bulletin = build_bulletin(chosen, out)
    if scanned_every:
        scanned = range(scanned_every, bulletin.page_count + 1, scanned_every)
        scan_pages(out, scanned, dpi=scan_dpi)
        bulletin = replace(bulletin, scanned_pages=tuple(scanned))
    return bulletin


def write_truth(bulletin: Bulletin) -> Path:
    truth = bulletin.path.with_suffix(".json")
    truth.write_text(json.dumps(bulletin.to_json(), ensure_ascii=False, indent=2) + "\n")
    return truth


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PDFs")
    parser.add_argument("--corpus", type=Path, default=None, help="folder of labelled acts")
    parser.add_argument("--large", action="store_true", help="also a ~600-page bulletin")
    arguments = parser.parse_args(argv)
    acts = load_corpus(arguments.corpus)
    out: Path = arguments.out
    bulletins = [
        build_bulletin(acts, out / "born-digital.pdf"),
        build_bulletin(acts, out / "scanned.pdf", scanned=True),
        build_bulletin(acts, out / "mixed.pdf", scanned=[3, 5, 6]),
    ]
    if arguments.large:
        bulletins.append(build_large_bulletin(out / "large-600.pdf", acts=acts))
    for bulletin in bulletins:
        write_truth(bulletin)
        print(f"{bulletin.path}  {bulletin.kind}  {bulletin.page_count} pages")


if __name__ == "__main__":
    main()
