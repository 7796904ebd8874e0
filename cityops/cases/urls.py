from django.urls import path

from cityops.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.case_queue, name="queue"),
    path("export.csv", views.case_export_csv, name="export_csv"),
    path("export.xlsx", views.case_export_xlsx, name="export_xlsx"),
    path("report/", views.case_report, name="report"),
    path("report/types/", views.type_options, name="type_options"),
    path("tasks/", views.inspector_tasks, name="tasks"),
    path("<key:number>/", views.case_detail, name="detail"),
    path("<key:number>/act/", views.case_act, name="act"),
    path("<key:number>/reply/", views.case_reply, name="reply"),
    path("<key:number>/photos/<int:pk>/", views.case_photo, name="photo"),
]
