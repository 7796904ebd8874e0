from django.urls import path

from cityops.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("cases", views.drilldown, name="cases"),
]
