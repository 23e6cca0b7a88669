"""Every recorded site: each folder of ``fixtures/sites/`` whose manifest has a ``[recording]``
table (``attrap adapters check CODE --record`` writes them) is replayed through
``FixtureFetcher`` with its adapter file, as it was recorded (its start URLs and
``not_before``). The crawl must find exactly the recorded bulletins — URL, title and date —
read exactly the recorded pages, and decide the recorded structure.

A new recording needs no new test: it is found here."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from record_sites import RECORDED

from attrap.adapters.fixtures import RecordedBulletin, is_recording, newest_first, read_manifest
from attrap.adapters.maintain import replay
from attrap.adapters.registry import builtin_dir, load_file

REPO = Path(__file__).resolve().parents[2]
SITES = REPO / "fixtures" / "sites"
RECORDINGS = sorted(folder for folder in SITES.iterdir() if is_recording(folder))


def test_the_recordings_are_found():
    assert {folder.name for folder in RECORDINGS} >= set(RECORDED)


@pytest.mark.parametrize("folder", RECORDINGS, ids=[folder.name for folder in RECORDINGS])
def test_recorded_site_gives_its_recorded_bulletins(folder: Path):
    manifest = read_manifest(folder)
    recording = manifest.recording
    assert recording is not None
    assert folder.name == recording.code, "a recording lives in fixtures/sites/<its code>/"
    spec = load_file(builtin_dir() / f"{recording.code}.toml")
    assert spec.engine == recording.engine
    report = asyncio.run(replay(spec, folder))
    assert report.error is None
    found = newest_first(RecordedBulletin.of(ref) for ref in report.refs)
    assert found == manifest.bulletin
    assert report.pages == len(manifest.page), "every recorded page is read, and no other"
    assert report.structure is not None
    assert report.structure.pins() == recording.structure
