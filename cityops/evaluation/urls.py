from django.urls import path

from cityops.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("report/", views.monthly_report, name="report"),
    path("report.xlsx", views.monthly_report_xlsx, name="report_xlsx"),
]
