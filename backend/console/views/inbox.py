from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.console.access import console_view


@console_view
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {"nav": "today"})
