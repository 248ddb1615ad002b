"""Configuration: defaults, one clear line per bad value, the generated secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_settings


def _load(tmp_path: Path, **extra: str):  # type: ignore[no-untyped-def]
    return load_settings({"QRMINT_DATA_DIR": str(tmp_path), **extra}, env_file="/nonexistent")


def test_defaults_follow_the_data_dir(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.database_url == f"sqlite://{tmp_path}/qrmint.sqlite3"
    assert settings.clickhouse_url == f"chdb://{tmp_path}/analytics"
    assert settings.redis_url is None
    assert settings.redirect_base_url == "http://127.0.0.1:8080"
    assert settings.uses_chdb
    assert not settings.webhook_allow_private


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = _load(tmp_path).secret_key
    assert len(first) >= 32
    assert _load(tmp_path).secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("QRMINT_REDIRECT_BASE_URL=https://qr.example/\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"QRMINT_DATA_DIR": str(tmp_path)})
    assert settings.redirect_base_url == "https://qr.example"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QRMINT_DATABASE_URL", "mysql://db"),
        ("QRMINT_CLICKHOUSE_URL", "tcp://ch:9000"),
        ("QRMINT_REDIS_URL", "http://redis"),
        ("QRMINT_REDIRECT_BASE_URL", "qr.example"),
        ("QRMINT_TRUSTED_PROXIES", "10.0.0.0/8,banana"),
        ("QRMINT_GEOIP_DB", "/does/not/exist.mmdb"),
        ("QRMINT_WEBHOOK_ALLOW_PRIVATE", "maybe"),
        ("QRMINT_SECRET_KEY", "short"),
        ("QRMINT_TIERS_FILE", "/does/not/exist.toml"),
        ("QRMINT_RENDER_CONCURRENCY", "0"),
        ("QRMINT_RENDER_CONCURRENCY", "lots"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, **{name: value})
    message = str(caught.value)
    assert message.startswith(name)
    assert "\n" not in message


def test_trusted_proxies_parse(tmp_path: Path) -> None:
    settings = _load(tmp_path, QRMINT_TRUSTED_PROXIES="10.0.0.0/8, ::1")
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]


def test_render_concurrency_is_optional(tmp_path: Path) -> None:
    assert _load(tmp_path).render_concurrency is None
    assert _load(tmp_path, QRMINT_RENDER_CONCURRENCY="6").render_concurrency == 6
