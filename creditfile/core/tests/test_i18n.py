"""The UI is Chinese by default and English when chosen; the English catalogue is complete."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from creditfile.core.validators import validate_uscc
from creditfile.customers.testing import make_customer

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE / "django.po"
MO_FILE = LOCALE / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*[\d.]*[a-z]|%[sd]|\{\w*\}")


def parse_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr / msgstr[n], flags."""
    entries, entry, key = [], None, None

    def flush():
        if entry and "msgid" in entry:
            entries.append(entry)

    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#,"):
            flush()
            entry, key = {"flags": {f.strip() for f in line[2:].split(",")}}, None
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            if key in ("msgctxt", "msgid") and entry and "msgid" in entry:
                flush()
                entry = None
            entry = entry if entry is not None else {"flags": set()}
            entry[key] = ast.literal_eval(value)
    flush()
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def switch_to_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    assert response.status_code == 302


@pytest.fixture
def carl_client(client, org):
    client.force_login(org.carl)
    return client


def test_it_shows_chinese_by_default(carl_client):
    html = carl_client.get("/customers/").content.decode()

    assert "客户一览表" in html
    assert "Customer list" not in html


def test_it_shows_the_customer_list_in_english_after_switching(carl_client):
    switch_to_english(carl_client)

    html = carl_client.get("/customers/").content.decode()

    assert "Customer list" in html
    assert "客户一览表" not in html
    assert "Unified social credit code" in html


def test_it_shows_the_customer_file_tabs_in_english(carl_client, org):
    customer = make_customer(owner=org.alice)
    switch_to_english(carl_client)

    html = carl_client.get(f"/customers/{customer.pk}/").content.decode()

    for label in ("Basic information", "Key persons", "Banks", "Correspondence", "Timeline"):
        assert label in html
    for label in ("基本信息", "关键人物", "往来银行", "往来函电"):
        assert label not in html


def test_it_switches_back_to_chinese(carl_client):
    switch_to_english(carl_client)
    carl_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/customers/"})

    assert "客户一览表" in carl_client.get("/customers/").content.decode()


def test_it_gives_validation_messages_in_english():
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        validate_uscc("9144030019220382")

    assert raised.value.messages == [
        "A unified social credit code has 18 characters; this one has 16."
    ]


def test_it_gives_validation_messages_in_chinese_by_default():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
        validate_uscc("9144030019220382")

    assert raised.value.messages == ["统一社会信用代码应为18位，实际为16位。"]


def test_it_has_an_english_translation_for_every_message():
    entries = parse_po(PO_FILE)

    untranslated = [e["msgid"] for e in entries if not all(translations(e))]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]

    assert len(entries) > 600
    assert untranslated == []
    assert fuzzy == []


def test_it_keeps_every_placeholder_in_the_translation():
    wrong = []
    for entry in parse_po(PO_FILE):
        wanted = sorted(set(PLACEHOLDER.findall(entry["msgid"])))
        for text in translations(entry):
            if sorted(set(PLACEHOLDER.findall(text))) != wanted:
                wrong.append((entry["msgid"], text))

    assert wrong == []


def test_it_has_compiled_the_current_catalogue():
    """django.mo must match django.po: run `creditfile compilemessages -l en` after editing."""
    with MO_FILE.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)

    stale = []
    for entry in parse_po(PO_FILE):
        if "msgid_plural" in entry:
            got = [compiled.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 2)]
            want = [entry["msgstr[0]"], entry["msgstr[1]"]]
        else:
            got, want = compiled.gettext(entry["msgid"]), entry["msgstr"]
        if got != want:
            stale.append(entry["msgid"])

    assert stale == []


def test_it_stays_chinese_for_an_english_browser_until_english_is_chosen(client, org):
    client.force_login(org.carl)
    page = client.get("/customers/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "客户一览表" in page.content.decode()
    assert page["Content-Language"] == "zh-hans"
