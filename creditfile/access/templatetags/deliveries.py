"""`{% print_stamp %}`: what a page printed from the browser carries (see deliveries.py)."""

from django import template
from django.template.loader import render_to_string

from creditfile.access.services.deliveries import stamp_for

register = template.Library()


@register.simple_tag(takes_context=True)
def print_stamp(context) -> str:
    """A stamp line and a light diagonal watermark, hidden on screen and shown on paper
    (app.css). A browser print cannot be seen from the server, so it is not an audit
    event; the page's reading is."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return render_to_string("access/print_stamp.html", {"stamp": stamp_for(user)})
