from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "stadtbote.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"
