from django.urls import path

from stadtbote.accounts import views

urlpatterns = [
    path("login/", views.login, name="staff-login"),
    path("code/", views.verify, name="staff-verify"),
    path("second-factor/", views.set_up_second_factor, name="staff-second-factor"),
    path("logout/", views.logout, name="staff-logout"),
]
