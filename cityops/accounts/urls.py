from django.urls import path

from cityops.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.CityLoginView.as_view(), name="login"),
    path("logout/", views.CityLogoutView.as_view(), name="logout"),
    path("work/<slug:role>/", views.role_home, name="role_home"),
]
