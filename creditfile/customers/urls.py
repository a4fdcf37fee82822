from creditfile.customers.views import cards, classification, file, imports, listing

app_name = "customers"

urlpatterns = (
    listing.urlpatterns
    + file.urlpatterns
    + classification.urlpatterns
    + imports.urlpatterns
    + cards.urlpatterns
)
