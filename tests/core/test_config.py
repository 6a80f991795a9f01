"""Configuration: defaults for the embedded mode, one clear line for a bad value."""

import pytest

from core.config import ConfigError, Settings, load_settings, require_bot_token


def test_embedded_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(_env_file=None)
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("data/codehub.db")
    assert settings.admin_port == 8000 and settings.admin_host == "127.0.0.1"
    assert str(settings.signup_bonus) == "500.00"


def test_admin_ids_from_comma_list(monkeypatch):
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "123, 456")
    assert load_settings(_env_file=None).admin_telegram_ids == [123, 456]


@pytest.mark.parametrize(
    "var,value",
    [
        ("ADMIN_TELEGRAM_IDS", "12,abc"),
        ("ADMIN_PORT", "99999"),
        ("VODAFONE_CASH_NUMBER", "12345"),
        ("SIGNUP_BONUS", "-5"),
        ("DATABASE_URL", "mysql://x"),
    ],
)
def test_bad_value_names_the_variable_on_one_line(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    message = str(info.value)
    assert message.startswith(var + ":")
    assert "\n" not in message


@pytest.mark.parametrize("token,fragment", [(None, "not set"), ("nonsense", "malformed")])
def test_bot_token_checked_with_a_hint(token, fragment):
    settings = Settings(_env_file=None, bot_token=token)
    with pytest.raises(ConfigError) as info:
        require_bot_token(settings)
    assert str(info.value).startswith("BOT_TOKEN:") and fragment in str(info.value)


def test_good_bot_token_passes():
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
    assert require_bot_token(Settings(_env_file=None, bot_token=token)) == token
