from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, path

from backend.console.views import auth

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", auth.ConsoleLoginView.as_view(), name="login"),
    path("login/code/", auth.totp_verify, name="totp_verify"),
    path("logout/", auth_views.LogoutView.as_view(next_page="console:login"), name="logout"),
    path("security/two-step/", auth.totp_enrol, name="totp_enrol"),
]
