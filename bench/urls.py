from django.urls import path

from bench import baseline
from config.urls import urlpatterns as api_urlpatterns

urlpatterns = [
    path("bench/baseline/insert/", baseline.insert_row),
    path("bench/baseline/document/", baseline.fixed_document),
    *api_urlpatterns,
]
