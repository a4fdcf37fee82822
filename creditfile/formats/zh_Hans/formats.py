"""Amounts grouped by thousands (1,234,567.00), as Chinese finance staff write them.

Django's own zh_Hans formats leave the separator empty, so `floatformat:"2g"` would
print 1234567.00 in the Chinese UI while the English one groups digits.
"""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
