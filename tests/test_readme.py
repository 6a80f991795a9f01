"""README stays the operator's reference: every setting the product reads from the environment is in it."""

from pathlib import Path

from core.config import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_environment_variable_is_documented():
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, f"README's Configuration section does not name: {missing}"


def test_readme_starts_with_the_two_commands():
    head = README.split("## ", 1)[0]
    assert "python3 dev.py run" in head and "python3 dev.py test" in head
