from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.console.access import console_view


@console_view
def patient_list(request: HttpRequest) -> HttpResponse:
    return render(request, "console/patients.html", {"nav": "patients"})
