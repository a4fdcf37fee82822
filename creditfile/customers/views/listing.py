from django.shortcuts import render
from django.urls import path

from creditfile.customers.services.visibility import visible_customers


def customer_list(request):
    customers = visible_customers(request.user)[:50]
    return render(request, "customers/customer_list.html", {"customers": customers})


urlpatterns = [
    path("", customer_list, name="list"),
]
