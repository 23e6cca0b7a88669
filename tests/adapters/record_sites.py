"""The committed recordings of ``fixtures/sites/<code>/``: administrations of different engines
and site families, each recorded by ``attrap adapters check CODE --record`` from its family's
saved pages served on 127.0.0.1 (``site_server.FixtureSite``), its start URLs pointed there by
``[adapters.overrides]``. ``tests/adapters/test_recorded_sites.py`` replays them.

To record them again (from the repository root)::

    .venv/bin/python tests/adapters/record_sites.py [CODE…]
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

from click.testing import Result
from site_server import FixtureSite, origin_of
from typer.testing import CliRunner

from attrap.adapters.registry import load_file
from attrap.cli import app

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
# The port the committed recordings were made on (their URLs name it; file names do not).
PORT = 8737
D = dt.date

# code: (family fixtures it is served from, not_before)
RECORDED: dict[str, tuple[str, dt.date]] = {
    "37": ("a", D(2024, 6, 1)),  # dsfr: year cards → flat list
    "01": ("b", D(2024, 6, 1)),  # dsfr: year → month → list
    "05": ("c", D(2024, 6, 1)),  # dsfr: year page paginated oldest first → detail pages
    "35": ("e", D(2024, 6, 1)),  # dsfr: a <select> menu re-posted (POST forms)
    "77": ("e", D(2024, 6, 1)),  # dsfr: a redirecting start URL, a menu of detail-page URLs
    "57": ("dims", D(2024, 6, 1)),  # dims: session cookies, paginated list of acts
    "PP": ("police", D(2024, 6, 1)),  # police: decree block and pager
}


def record(code: str, sites: Path, workdir: Path, port: int = PORT) -> Result:
    """Runs ``attrap adapters check CODE --record --sites SITES`` against the served family."""
    family, not_before = RECORDED[code]
    spec = load_file(REPO / "prefectures" / f"{code}.toml")
    with FixtureSite(SITES / family, origin_of(spec.start_urls[0]), port) as site:
        config = workdir / "attrap.toml"
        start_urls = [site.local(url) for url in spec.start_urls]
        config.write_text(
            f'[storage]\ndata_dir = "{workdir / "data"}"\n'
            f"[crawl]\nnot_before = {not_before.isoformat()}\nmin_delay_s = 0\nmax_attempts = 1\n"
            f'[adapters.overrides."{code}"]\nstart_urls = {json.dumps(start_urls)}\n',
            encoding="utf-8",
        )
        args = ["adapters", "check", code, "--record", "--sites", str(sites), "-c", str(config)]
        return CliRunner().invoke(app, args)


def main(codes: list[str]) -> int:
    for code in codes or sorted(RECORDED):
        with tempfile.TemporaryDirectory() as workdir:
            result = record(code, SITES, Path(workdir))
        print(result.output, end="")
        if result.exit_code != 0:
            return result.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
