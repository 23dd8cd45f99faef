"""The login page, its code step and the Two-factor sign-in page (included at the site's root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/otp/", views.code_step, name="login_otp"),
    path("account/two-factor/", views.two_factor, name="two_factor"),
]
