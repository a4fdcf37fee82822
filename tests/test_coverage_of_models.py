"""A model nobody tests is a model whose rules can silently break (STYLE.md practice 8)."""

from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
OUR_APPS = {"core", "customers", "credit"}


def _test_sources() -> str:
    files = list(ROOT.glob("creditfile/*/tests/test_*.py")) + list(ROOT.glob("tests/test_*.py"))
    files = [f for f in files if f.name != Path(__file__).name]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def test_every_model_is_named_in_some_test():
    sources = _test_sources()
    untested = [
        f"{m._meta.app_label}.{m.__name__}"
        for m in apps.get_models()
        if m._meta.app_label in OUR_APPS and m.__name__ not in sources
    ]
    assert untested == [], f"models without a test that names them: {untested}"
