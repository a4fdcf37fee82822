"""Pinyin of customer names, so `hxkj` or `huaxin` finds 华信科技."""

from pypinyin import Style, lazy_pinyin


def name_pinyin(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lower-case without spaces; non-Chinese characters kept as is."""
    text = (name or "").strip()
    syllables = [s.lower() for s in lazy_pinyin(text, errors="default") if s.strip()]
    initials = [s.lower() for s in lazy_pinyin(text, style=Style.FIRST_LETTER) if s.strip()]
    return "".join(syllables).replace(" ", ""), "".join(initials).replace(" ", "")
