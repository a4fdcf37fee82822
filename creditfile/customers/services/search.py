"""The one search box of the customer list: name fragment, pinyin, credit code or phone.

A first, index-less version; see docs/performance.md for the indexed one.
"""

import re

from django.db.models import Q, QuerySet

from creditfile.core.validators import phone_digits


def search_customers(queryset: QuerySet, q: str) -> QuerySet:
    q = (q or "").strip()
    if not q:
        return queryset
    digits = phone_digits(q)
    if re.fullmatch(r"[0-9A-Za-z]{18}", q) and not q.isalpha():
        return queryset.filter(uscc=q.upper())
    if re.fullmatch(r"\+?\d{5,}", digits):
        return queryset.filter(Q(contact__phone_search__contains=digits) | Q(phone__contains=digits)).distinct()
    if re.fullmatch(r"[A-Za-z]+", q):
        low = q.lower()
        return queryset.filter(Q(name_initials__contains=low) | Q(name_pinyin__contains=low))
    return queryset.filter(name__contains=q)
