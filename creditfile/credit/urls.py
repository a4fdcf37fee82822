"""The credit app's screens; each views module lists its own URLs."""

from creditfile.credit.views import (
    applications,
    configuration,
    letters,
    lines,
    refusals,
    reviews,
    sanctions,
)

app_name = "credit"

urlpatterns = (
    applications.urlpatterns
    + configuration.urlpatterns
    + letters.urlpatterns
    + lines.urlpatterns
    + refusals.urlpatterns
    + reviews.urlpatterns
    + sanctions.urlpatterns
)
