"""Settings read once from the environment (and ./.env), validated, then passed around.

Nothing connects or reads files at import time: `load_settings()` is called by the
process entry points, and a bad value stops start-up with one line naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class ConfigError(Exception):
    """A configuration value is unusable; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    clickhouse_url: str
    redis_url: str | None
    secret_key: str
    redirect_base_url: str
    trusted_proxies: tuple[IPNetwork, ...] = ()
    geoip_db: Path | None = None
    webhook_allow_private: bool = False
    webhook_ca_bundle: Path | None = None
    tiers_file: Path | None = None
    # Renders at once (threads); None: the CPU count, at least 2 (core.render_slots).
    render_concurrency: int | None = None
    # False when QRMINT_REDIRECT_BASE_URL was not given: a process that runs the redirector
    # then puts its own address there (see `with_redirect_address`).
    redirect_base_url_set: bool = True
    log_format: str = "text"
    log_level: str = "info"
    metrics_token: str | None = None
    cors_origins: tuple[str, ...] = ()
    redirect_access_log: bool = False

    @property
    def uses_chdb(self) -> bool:
        return self.clickhouse_url.startswith("chdb://")

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def load_settings(environ: Mapping[str, str] | None = None, env_file: str = ".env") -> Settings:
    env = dict(os.environ if environ is None else environ)
    config = Config(env_file if Path(env_file).is_file() else None, environ=env)
    data_dir = _data_dir(config)
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(config, data_dir),
        clickhouse_url=_clickhouse_url(config, data_dir),
        redis_url=_optional_url(config, "QRMINT_REDIS_URL", ("redis", "rediss", "unix")),
        secret_key=_secret_key(config, data_dir),
        redirect_base_url=_base_url(config),
        redirect_base_url_set=bool(config("QRMINT_REDIRECT_BASE_URL", default="")),
        trusted_proxies=_networks(config("QRMINT_TRUSTED_PROXIES", default="")),
        geoip_db=_existing_file(config, "QRMINT_GEOIP_DB"),
        webhook_allow_private=_bool(config, "QRMINT_WEBHOOK_ALLOW_PRIVATE"),
        webhook_ca_bundle=_existing_file(config, "QRMINT_WEBHOOK_CA_BUNDLE"),
        tiers_file=_existing_file(config, "QRMINT_TIERS_FILE"),
        render_concurrency=_optional_count(config, "QRMINT_RENDER_CONCURRENCY", 1, 256),
        log_format=_choice(config, "QRMINT_LOG_FORMAT", LOG_FORMATS, "text"),
        log_level=_choice(config, "QRMINT_LOG_LEVEL", LOG_LEVELS, "info"),
        metrics_token=_token(config, "QRMINT_METRICS_TOKEN"),
        cors_origins=_origins(config("QRMINT_CORS_ORIGINS", default="")),
        redirect_access_log=_bool(config, "QRMINT_REDIRECT_ACCESS_LOG"),
    )


def with_redirect_address(settings: Settings, host: str, port: int) -> Settings:
    """Short links on the redirector this process actually serves, unless the base URL was set.

    A wildcard host says nothing about how phones reach us: links then use the loopback
    address, and the start-up log says to set QRMINT_REDIRECT_BASE_URL."""
    if settings.redirect_base_url_set:
        return settings
    name = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    netloc = f"[{name}]:{port}" if ":" in name else f"{name}:{port}"
    return replace(settings, redirect_base_url=f"http://{netloc}")


def _data_dir(config: Config) -> Path:
    path = Path(config("QRMINT_DATA_DIR", default="./var")).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"QRMINT_DATA_DIR: cannot create {path}: {exc.strerror}") from None
    return path


def _database_url(config: Config, data_dir: Path) -> str:
    default = f"sqlite://{data_dir / 'qrmint.sqlite3'}"
    url = str(config("QRMINT_DATABASE_URL", default=default))
    scheme = urlsplit(url).scheme
    if scheme not in ("sqlite", "postgres", "postgresql"):
        raise ConfigError(
            f"QRMINT_DATABASE_URL: scheme {scheme!r} is not supported; "
            "expected sqlite://PATH or postgres://user@host:5432/db"
        )
    path = url[len("sqlite://") :] if scheme == "sqlite" else ""
    if scheme == "sqlite" and (not path or Path(path).is_dir()):
        raise ConfigError(f"QRMINT_DATABASE_URL: {url!r} names no database file")
    return url


def _clickhouse_url(config: Config, data_dir: Path) -> str:
    url = str(config("QRMINT_CLICKHOUSE_URL", default=f"chdb://{data_dir / 'analytics'}"))
    scheme = urlsplit(url).scheme
    if scheme not in ("chdb", "http", "https"):
        raise ConfigError(
            f"QRMINT_CLICKHOUSE_URL: scheme {scheme!r} is not supported; "
            "expected chdb://PATH or http://host:8123/db"
        )
    return url


def _optional_url(config: Config, name: str, schemes: tuple[str, ...]) -> str | None:
    value = config(name, default="") or ""
    if not value:
        return None
    if urlsplit(value).scheme not in schemes:
        raise ConfigError(f"{name}: {value!r} is not a URL with scheme {' or '.join(schemes)}")
    return str(value)


def _base_url(config: Config) -> str:
    value = str(config("QRMINT_REDIRECT_BASE_URL", default="http://127.0.0.1:8080"))
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"QRMINT_REDIRECT_BASE_URL: {value!r} is not an http(s) base URL "
            "such as https://qr.example"
        )
    return value.rstrip("/")


def _secret_key(config: Config, data_dir: Path) -> str:
    value = str(config("QRMINT_SECRET_KEY", default=""))
    if value:
        if len(value) < 16:
            raise ConfigError("QRMINT_SECRET_KEY: must be at least 16 characters long")
        return value
    return _stored_secret(data_dir / "secret_key")


def _stored_secret(path: Path) -> str:
    # Generated once and kept beside the data, so cookies and hashes stay valid across restarts.
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def _networks(raw: str) -> tuple[IPNetwork, ...]:
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"QRMINT_TRUSTED_PROXIES: {item!r} is not a CIDR such as 10.0.0.0/8"
            ) from None
    return tuple(networks)


def _existing_file(config: Config, name: str) -> Path | None:
    value = config(name, default="") or ""
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"{name}: file {value!r} does not exist")
    return path


def _optional_count(config: Config, name: str, low: int, high: int) -> int | None:
    value = str(config(name, default="")).strip()
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise ConfigError(f"{name}: {value!r} is not a whole number from {low} to {high}")
    return int(value)


def _bool(config: Config, name: str) -> bool:
    value = str(config(name, default="false")).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name}: {value!r} is not a boolean; expected true or false")


def _choice(config: Config, name: str, choices: tuple[str, ...], default: str) -> str:
    value = str(config(name, default=default)).strip().lower() or default
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _token(config: Config, name: str) -> str | None:
    value = str(config(name, default="")).strip()
    if value and (len(value) < 16 or any(char.isspace() for char in value)):
        raise ConfigError(f"{name}: must be at least 16 characters long, without spaces")
    return value or None


def _origins(raw: str) -> tuple[str, ...]:
    origins = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        exact = parts.scheme in ("http", "https") and parts.netloc and not parts.path.strip("/")
        if item != "*" and not (exact and not parts.query and not parts.fragment):
            raise ConfigError(
                f"QRMINT_CORS_ORIGINS: {item!r} is not an origin such as "
                "https://app.example or http://localhost:3000 (or *)"
            )
        origins.append(item if item == "*" else f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)
