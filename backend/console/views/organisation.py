from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.console.access import console_view


@console_view
def organisation_home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/organisation.html", {"nav": "organisation"})
