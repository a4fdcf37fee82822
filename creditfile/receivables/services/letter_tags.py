"""The only tags and filters a dunning-letter template may use (services/dunning_letters.py).

Templates are edited by credit managers and run on the server, so they get a small,
harmless part of Django's template language: conditions, loops and formatting. No
`load`, `include`, `extends`, `debug`, `url` or `csrf_token`; and the values they see are
plain text and numbers, never model objects that could lead elsewhere.
"""

from django.template import Library, defaultfilters, defaulttags

register = Library()

register.tag("if", defaulttags.do_if)
register.tag("for", defaulttags.do_for)
register.tag("with", defaulttags.do_with)
for _name in ("comment", "now", "firstof", "cycle"):
    register.tag(_name, getattr(defaulttags, _name))

for _name in (
    "add",
    "date",
    "default",
    "default_if_none",
    "first",
    "floatformat",
    "join",
    "last",
    "length",
    "pluralize",
    "yesno",
):
    register.filter(_name, getattr(defaultfilters, _name))
