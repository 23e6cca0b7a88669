from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attrap.cli import app
from attrap.config import ConfigError, load_settings
from attrap.notify.registry import MastodonSettings

runner = CliRunner()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "attrap.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_defaults_use_sqlite_under_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ATTRAP_CONFIG", raising=False)
    settings = load_settings()
    assert settings.database.url == f"sqlite:///{settings.storage.data_dir / 'attrap.db'}"
    assert settings.crawl.not_before == dt.date(2024, 1, 1)
    assert settings.notify.channels == {}


def test_lookup_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[crawl]\nmin_delay_s = 1.5\n")
    env_file = tmp_path / "env.toml"
    env_file.write_text("[crawl]\nmin_delay_s = 2.5\n", encoding="utf-8")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[crawl]\nmin_delay_s = 3.5\n", encoding="utf-8")
    monkeypatch.delenv("ATTRAP_CONFIG", raising=False)
    assert load_settings().crawl.min_delay_s == 1.5
    monkeypatch.setenv("ATTRAP_CONFIG", str(env_file))
    assert load_settings().crawl.min_delay_s == 2.5
    assert load_settings(explicit).crawl.min_delay_s == 3.5


def test_relative_paths_resolve_against_the_file(tmp_path: Path):
    path = write(tmp_path, '[storage]\ndata_dir = "store"\n[adapters]\npaths = ["more"]\n')
    settings = load_settings(path)
    assert settings.storage.data_dir == tmp_path / "store"
    assert settings.adapters.paths == [tmp_path / "more"]
    assert settings.database.url == f"sqlite:///{tmp_path / 'store' / 'attrap.db'}"


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    path = write(
        tmp_path,
        '[notify.mastodon]\ninstance = "https://example.org"\ntoken_env = "MY_TOKEN"\n',
    )
    monkeypatch.setenv("MY_TOKEN", "s3cret")
    settings = load_settings(path)
    mastodon = settings.notify.channels["mastodon"]
    assert isinstance(mastodon, MastodonSettings)
    assert settings.secret(mastodon.token_env) == "s3cret"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[crawl]\nmin_dealy_s = 3\n", "clé inconnue 'crawl.min_dealy_s'"),
        (
            "[crawl]\nmax_concurrency = 'many'\n",
            "clé 'crawl.max_concurrency' : nombre entier attendu",
        ),
        ("[bogus]\nx = 1\n", "clé inconnue 'bogus'"),
        ("[crawl\nmin_delay_s = 3\n", "TOML invalide"),
    ],
)
def test_bad_config_is_one_clear_line(tmp_path: Path, body: str, expected: str):
    path = write(tmp_path, body)
    with pytest.raises(ConfigError, match=expected):
        load_settings(path)
    result = runner.invoke(app, ["hits", "--config", str(path)])
    assert result.exit_code == 2
    assert expected in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreadable_config(tmp_path: Path):
    result = runner.invoke(app, ["status", "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
    assert "lecture impossible" in result.stderr
