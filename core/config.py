"""One typed configuration, read from the environment and `.env`, used by every process."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.business_settings import validate_setting
from core.errors import InvalidSetting
from core.sms import normalize_sender_id


class ConfigError(Exception):
    """A missing or bad configuration value; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = ""
    data_dir: Path = Path("data")
    telegram_api_url: str = "https://api.telegram.org"
    admin_telegram_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    vodafone_cash_number: str = "01000000000"
    signup_bonus: Decimal = Decimal("500.00")
    currency: str = "EGP"
    timezone: str = "Africa/Cairo"
    redis_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    secret_key: SecretStr | None = None
    field_encryption_key: SecretStr | None = None
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(default=8000, ge=1, le=65535)
    admin_channel_timeout: int = Field(default=30, ge=1, le=3600)  # seconds an idle connection is kept
    admin_connection_limit: int = Field(default=1000, ge=10, le=100_000)
    # How many reverse proxies in front of the panel append X-Forwarded-For/-Proto; 0 = none (ignore them).
    trusted_proxy_count: int = Field(default=0, ge=0, le=5)
    session_cookie_secure: bool = False  # true when the panel is served over HTTPS
    log_level: str = "INFO"
    # text: human-readable lines; json: one JSON object per line (ts, level, logger, message, error_ref, exc)
    log_format: str = Field(default="text", pattern="^(text|json)$")
    # Public HTTPS address the Telegram Mini App is served from (this panel's origin, e.g.
    # https://codehub.example.com); unset = the bot shows no web buttons.
    webapp_url: str | None = None
    webapp_short_name: str | None = None  # the Mini App's short name from @BotFather /newapp, for t.me links
    # Vodafone Cash SMS forwarding (admin_panel/webhooks/sms.py): the secret shared with the forwarder
    # app (a bearer token, or android-sms-gateway's HMAC signing key), which of the two is accepted,
    # and the sender ids whose texts may create transfers.
    sms_webhook_secret: SecretStr | None = None
    sms_webhook_auth: str = Field(default="any", pattern="^(any|token|hmac)$")
    sms_sender_ids: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["VF-Cash"])
    sms_max_skew_seconds: int = Field(default=300, ge=10, le=86400)

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _split_ids(cls, value):
        if isinstance(value, str):
            parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
            try:
                return [int(p) for p in parts]
            except ValueError as exc:
                raise ValueError("must be a comma-separated list of numeric Telegram ids") from exc
        return value

    @field_validator("sms_sender_ids", mode="before")
    @classmethod
    def _split_senders(cls, value):
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for sender in value or []:
            if normalize_sender_id(sender) is None:
                raise ValueError(f"{sender!r} is not a sender id: printable ASCII, at most 32 characters")
        return value

    @field_validator("vodafone_cash_number", "signup_bonus", mode="before")
    @classmethod
    def _check_business_setting(cls, value, info):
        """The same validator as the settings page and the API (core.business_settings)."""
        try:
            return validate_setting(info.field_name, str(value))
        except InvalidSetting as exc:
            raise ValueError(str(exc.args[0]).split(": ", 1)[-1]) from None

    @field_validator("webapp_url")
    @classmethod
    def _check_webapp_url(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        value = value.strip().rstrip("/")
        local = re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", value)
        if not (value.startswith("https://") or local):
            raise ValueError("must be a public https:// address (Telegram opens Mini Apps over HTTPS only)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_db(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("bot_token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() == "":
            return None
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'codehub.db').resolve()}"


def load_settings(**overrides) -> Settings:
    """Read settings; a bad value raises ConfigError naming the variable on one line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        raise ConfigError(f"{name}: {first['msg']}") from None


BOT_TOKEN_RE = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")


def require_bot_token(settings: Settings) -> str:
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    if not token:
        raise ConfigError(
            "BOT_TOKEN: not set. Create a bot with @BotFather in Telegram (/newbot) and "
            "put its token in BOT_TOKEN (environment or .env)."
        )
    if not BOT_TOKEN_RE.match(token):
        raise ConfigError("BOT_TOKEN: malformed; expected the form 123456789:AA... from @BotFather")
    return token
