"""Hostile PDF files, generated: each one is what a careless or malicious publisher could put
behind a bulletin link. ``HOSTILE`` maps a name to a builder writing the file."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf

from local_server import make_pdf

ACT_TEXT = "Arrêté autorisant la captation d'images au moyen de caméras installées sur des aéronefs"


def _real(path: Path) -> None:
    path.write_bytes(make_pdf(ACT_TEXT))


def zero_bytes(path: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path) -> None:
    whole = make_pdf(ACT_TEXT)
    path.write_bytes(whole[: len(whole) // 2])


def encrypted(path: Path) -> None:
    with pikepdf.open(_source(path)) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="proprietaire", user="secret"))


def encrypted_empty_user_password(path: Path) -> None:
    # Readable by anyone: the owner password only restricts printing and copying.
    with pikepdf.open(_source(path)) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="proprietaire", user=""))


def _source(path: Path) -> Path:
    source = path.with_suffix(".source.pdf")
    _real(source)
    return source


def many_pages(path: Path, pages: int = 5000) -> None:
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
        )
    )
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    for number in range(1, pages + 1):
        content = f"BT /F1 12 Tf 72 720 Td (Recueil page {number}) Tj ET".encode()
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=resources,
                Contents=pdf.make_stream(content),
            )
        )
        pdf.pages.append(page)
    pdf.save(path)


def _bomb_stream(size: int, fill: bytes = b"\0") -> bytes:
    # Compressed chunk by chunk: the whole inflated size never sits in this process.
    compressor = zlib.compressobj(1)
    chunk = fill * (1024 * 1024)
    out = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    out.append(compressor.flush())
    return b"".join(out)


def huge_image(path: Path) -> None:
    """A page whose image is 20,000 × 20,000 RGB pixels (1.2 GB decoded, a few MB on disk)."""
    side = 20_000
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, _bomb_stream(side * side * 3, b"\xff"))
    image.stream_dict = pikepdf.Dictionary(
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=side,
        Height=side,
        ColorSpace=pikepdf.Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=pikepdf.Name.FlateDecode,
    )
    content = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    pdf.pages.append(
        pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=resources,
                Contents=content,
            )
        )
    )
    pdf.save(path)


def decompression_bomb(path: Path) -> None:
    """A content stream of 1.5 GB of spaces, a few MB compressed."""
    pdf = pikepdf.new()
    content = pikepdf.Stream(pdf, _bomb_stream(1536 * 1024**2, b" "))
    content.stream_dict = pikepdf.Dictionary(Filter=pikepdf.Name.FlateDecode)
    pdf.pages.append(
        pikepdf.Page(
            pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842], Contents=content)
        )
    )
    pdf.save(path)


def _raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF written by hand (pikepdf would repair what these files break on purpose)."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def deeply_nested(path: Path) -> None:
    depth = 200_000
    nested = b"[" * depth + b"]" * depth
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Deep " + nested + b" >>"
    path.write_bytes(
        _raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                page,
            ]
        )
    )


def cyclic(path: Path) -> None:
    # The page tree contains itself; the catalog's outline points at itself too.
    path.write_bytes(
        _raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R /Outlines 4 0 R >>",
                b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1 >>",
                b"<< /Type /Outlines /First 4 0 R /Last 4 0 R /Next 4 0 R /Count 1 >>",
            ]
        )
    )


def javascript_and_forms(path: Path) -> None:
    with pikepdf.open(_source(path)) as pdf:
        script = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert('attrap');")
        pdf.Root.OpenAction = pdf.make_indirect(script)
        field = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Annot,
                Subtype=pikepdf.Name.Widget,
                FT=pikepdf.Name.Tx,
                T="nom",
                V="valeur",
                Rect=[72, 72, 300, 100],
                AA=pikepdf.Dictionary(K=script),
            )
        )
        pdf.pages[0].Annots = pdf.make_indirect([field])
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[field])
        pdf.save(path)


def font_without_unicode(path: Path) -> None:
    """Visible text drawn with a Type 3 font whose glyph names mean nothing and no ToUnicode:
    no text layer can be read from it."""
    pdf = pikepdf.new()
    glyph = pdf.make_stream(b"1000 0 0 0 750 750 d1 0 0 750 750 re f")
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type3,
            FontBBox=[0, 0, 750, 750],
            FontMatrix=[0.001, 0, 0, 0.001, 0, 0],
            CharProcs=pikepdf.Dictionary(g1=glyph),
            Encoding=pikepdf.Dictionary(
                Type=pikepdf.Name.Encoding, Differences=[65, pikepdf.Name("/g1")]
            ),
            FirstChar=65,
            LastChar=65,
            Widths=[1000],
            Resources=pikepdf.Dictionary(),
        )
    )
    content = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (" + b"A" * 60 + b") Tj ET")
    pdf.pages.append(
        pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                Contents=content,
            )
        )
    )
    pdf.save(path)


HOSTILE: dict[str, Callable[[Path], None]] = {
    "zero-bytes": zero_bytes,
    "truncated": truncated,
    "encrypted": encrypted,
    "encrypted-empty-password": encrypted_empty_user_password,
    "5000-pages": many_pages,
    "huge-image": huge_image,
    "decompression-bomb": decompression_bomb,
    "deeply-nested": deeply_nested,
    "cyclic": cyclic,
    "javascript-and-forms": javascript_and_forms,
    "font-without-unicode": font_without_unicode,
}
# Files a reader must open like any other bulletin (the text is there to be read).
READABLE = {"encrypted-empty-password", "javascript-and-forms", "5000-pages"}
