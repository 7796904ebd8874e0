"""The platform's routes, then the case page's floor (``benchmarks.floor``)."""

from django.urls import path

from benchmarks.floor import case_floor
from config.urls import urlpatterns as platform

urlpatterns = [*platform, path("bench/case-floor/<key:number>/", case_floor)]
