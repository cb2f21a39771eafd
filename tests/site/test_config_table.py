"""The The configuration table (docs/configuration.md) is rendered from the one declaration in nmt_site/settings.py."""

from pathlib import Path

import pytest

from nmt_site import env as env_module
from nmt_site import settings as site_settings

README = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_readme_table_is_the_rendered_declaration():
    text = README.read_text()
    assert env_module.replace_table(text, site_settings.env.table()) == text, (
        "The configuration table (docs/configuration.md) is stale: python -m nmt_site.env --write docs/configuration.md"
    )


def test_every_user_facing_setting_is_in_the_table():
    table = site_settings.env.table()
    for name in ("REDIS_URL", "DATABASE_URL", "NMT_DEVICE", "NMT_DOC_TTL_HOURS", "NMT_API_TIMEOUT", "NMT_DATA_DIR"):
        assert f"| `{name}` |" in table
    assert "NMT_TEST_DB_NAME" not in table  # internal plumbing stays out


def test_env_reads_and_records(monkeypatch):
    monkeypatch.setenv("X_COUNT", "7")
    monkeypatch.setenv("X_FLAG", "yes")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    env = env_module.Env()
    env.section("S")
    assert env.int("X_COUNT", 3, "count") == 7
    assert env.bool("X_FLAG", False, "flag") is True
    assert env.list("X_LIST", "", "list") == ["a", "b", "c"]
    assert env.float("X_MISSING", 1.5, "missing") == 1.5
    assert env.str("X_PATH", "/abs/var", "path", shown="var") == "/abs/var"
    assert "| `X_PATH` | `var` | path |" in env.table()
    assert "| **S** | | |" in env.table()
    with pytest.raises(ValueError, match="declared twice"):
        env.int("X_COUNT", 3, "again")


def test_check_and_write(tmp_path, capsys):
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{env_module.TABLE_START}\n| old |\n{env_module.TABLE_END}\nafter\n")
    assert env_module.main(["--check", str(doc)]) == 1
    assert env_module.main(["--write", str(doc)]) == 0
    assert env_module.main(["--check", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("after\n") and "| `REDIS_URL` |" in text
    with pytest.raises(ValueError, match="markers"):
        env_module.replace_table("no markers", "| t |\n")
