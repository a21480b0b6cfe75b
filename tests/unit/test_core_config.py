import stat

import pytest

from oncore_cli.core import config
from oncore_cli.core.errors import UsageError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("ONCORE_PROFILE", "ONCORE_URL", "ONCORE_ANON_KEY", "ONCORE_ORG", "ONCORE_ACCESS_TOKEN",
                 "ONCORE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)


def _file(tmp_path):
    cf = config.ConfigFile(tmp_path / "config.toml", current="prod")
    cf.profiles["prod"] = config.Profile("prod", url="https://prod.example/", anon_key="pk", org="acme")
    cf.profiles["dev"] = config.Profile("dev", url="http://127.0.0.1:54321", anon_key="dk")
    cf.save()
    return config.ConfigFile.load(tmp_path / "config.toml")


def test_round_trip_is_private_and_atomic(tmp_path):
    cf = _file(tmp_path)
    assert cf.current == "prod" and cf.profiles["prod"].org == "acme" and cf.profiles["dev"].org is None
    assert stat.S_IMODE((tmp_path / "config.toml").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left behind


def test_precedence_flags_then_env_then_file(tmp_path, monkeypatch):
    cf = _file(tmp_path)
    s = config.resolve(cf)
    assert (s.profile, s.url, s.anon_key, s.org) == ("prod", "https://prod.example", "pk", "acme")
    monkeypatch.setenv("ONCORE_PROFILE", "dev")
    monkeypatch.setenv("ONCORE_ORG", "env-org")
    s = config.resolve(cf)
    assert (s.profile, s.url, s.org) == ("dev", "http://127.0.0.1:54321", "env-org")
    monkeypatch.setenv("ONCORE_URL", "http://env.example")
    assert config.resolve(cf).url == "http://env.example"
    s = config.resolve(cf, profile="prod", url="http://flag.example", org="flag-org")
    assert (s.profile, s.url, s.anon_key, s.org) == ("prod", "http://flag.example", "pk", "flag-org")


def test_empty_env_values_count_as_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("ONCORE_PROFILE", "")
    assert config.resolve(_file(tmp_path)).profile == "prod"


def test_broken_file_is_a_usage_error(tmp_path):
    (tmp_path / "config.toml").write_text("current = [")
    with pytest.raises(UsageError, match="fix or delete the file"):
        config.ConfigFile.load(tmp_path / "config.toml")


def test_home_defaults_to_platformdirs(monkeypatch):
    monkeypatch.delenv("ONCORE_HOME", raising=False)
    assert config.home().name == "oncore"
    monkeypatch.setenv("ONCORE_HOME", "~/somewhere")
    assert str(config.home()).endswith("/somewhere") and "~" not in str(config.home())
