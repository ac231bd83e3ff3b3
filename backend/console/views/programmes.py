from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backend.console.access import console_view


@console_view
def template_list(request: HttpRequest) -> HttpResponse:
    return render(request, "console/templates.html", {"nav": "templates"})
