from creditfile.customers.views import (
    cards,
    classification,
    data_requests,
    file,
    imports,
    listing,
)

app_name = "customers"

urlpatterns = (
    listing.urlpatterns
    + data_requests.urlpatterns
    + file.urlpatterns
    + classification.urlpatterns
    + imports.urlpatterns
    + cards.urlpatterns
)
