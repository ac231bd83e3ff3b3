from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.console.access import console_view


@console_view
def enrol_patient(request: HttpRequest) -> HttpResponse:
    return render(request, "console/enrol.html", {"nav": "enrol"})
