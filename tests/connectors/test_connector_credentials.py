"""Credentials from files and environment variables."""

from __future__ import annotations

import logging
import os

import pytest

from orch.connectors.credentials import load_basespace, load_ica_key
from orch.errors import ConfigError

ENV = ("ICA_API_KEY", "ICA_API_KEY_FILE", "BASESPACE_CONFIG", "BASESPACE_ACCESS_TOKEN", "BASESPACE_API_SERVER")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.basespace/default.cfg unless a test writes one


def _write(path, text, mode=0o600):
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_ica_key_from_file_is_stripped(tmp_path, caplog):
    f = _write(tmp_path / "key", "  abc123secret\n\n")
    with caplog.at_level(logging.DEBUG):
        assert load_ica_key(str(f)) == "abc123secret"
    assert "readable by other users" not in caplog.text


def test_ica_key_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ICA_API_KEY", "envkey999\n")
    assert load_ica_key() == "envkey999"
    monkeypatch.setenv("ICA_API_KEY_FILE", str(_write(tmp_path / "k", "filekey")))
    assert load_ica_key() == "filekey"  # the file variable wins over the key variable


def test_missing_ica_key_says_what_to_set(tmp_path):
    with pytest.raises(ConfigError, match="--api-key-file FILE, or set ICA_API_KEY_FILE or ICA_API_KEY"):
        load_ica_key()
    with pytest.raises(ConfigError, match="does not exist"):
        load_ica_key(str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="is empty"):
        load_ica_key(str(_write(tmp_path / "empty", "  \n")))


def test_world_readable_file_is_warned_about_without_the_secret(tmp_path, caplog):
    f = _write(tmp_path / "key", "topsecretkey", 0o644)
    with caplog.at_level(logging.WARNING):
        load_ica_key(str(f))
    assert "readable by other users" in caplog.text and "chmod 600" in caplog.text
    assert "topsecretkey" not in caplog.text


@pytest.mark.parametrize("text", [
    "apiServer = https://api.euc1.sh.basespace.illumina.com\naccessToken = 0123abcd\n",
    "apiServer=https://api.euc1.sh.basespace.illumina.com\naccessToken=0123abcd",
    "# comment\n[DEFAULT]\n  accessToken   =0123abcd  \napiServer= https://api.euc1.sh.basespace.illumina.com/\n",
])
def test_basespace_cfg_variants(tmp_path, text):
    f = _write(tmp_path / "default.cfg", text)
    assert load_basespace(str(f)) == ("https://api.euc1.sh.basespace.illumina.com", "0123abcd")


def test_basespace_cfg_without_api_server_uses_default(tmp_path):
    f = _write(tmp_path / "default.cfg", "accessToken = t0k3n\n")
    assert load_basespace(str(f)) == ("https://api.basespace.illumina.com", "t0k3n")


def test_basespace_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("BASESPACE_ACCESS_TOKEN", "envtoken")
    assert load_basespace() == ("https://api.basespace.illumina.com", "envtoken")
    monkeypatch.setenv("BASESPACE_API_SERVER", "https://api.aps2.sh.basespace.illumina.com")
    assert load_basespace()[0] == "https://api.aps2.sh.basespace.illumina.com"
    monkeypatch.setenv("BASESPACE_CONFIG", str(_write(tmp_path / "c.cfg", "accessToken=fromfile")))
    assert load_basespace()[1] == "fromfile"


def test_basespace_missing_token_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="--basespace-config FILE .* BASESPACE_CONFIG or BASESPACE_ACCESS_TOKEN"):
        load_basespace()
    with pytest.raises(ConfigError, match="has no accessToken line"):
        load_basespace(str(_write(tmp_path / "c.cfg", "apiServer = https://x\n")))


def test_basespace_falls_back_to_the_bs_cli_config_in_home(tmp_path, monkeypatch):
    """What `bs auth` writes and the old script read; found by review: it was not looked at."""
    cfg = tmp_path / "home" / ".basespace" / "default.cfg"
    cfg.parent.mkdir(parents=True)
    _write(cfg, "apiServer = https://api.euc1.sh.basespace.illumina.com\naccessToken = homecfg\n")
    assert load_basespace() == ("https://api.euc1.sh.basespace.illumina.com", "homecfg")
    monkeypatch.setenv("BASESPACE_ACCESS_TOKEN", "envtoken")  # anything given explicitly wins
    assert load_basespace()[1] == "envtoken"
