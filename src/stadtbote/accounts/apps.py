from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "stadtbote.accounts"
    label = "accounts"
    verbose_name = _("Staff accounts")

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_migrate, post_save

        from stadtbote.accounts import roles, signals

        post_migrate.connect(roles.sync_roles, sender=self, dispatch_uid="accounts-sync-roles")
        user_logged_in.connect(signals.logged_in, dispatch_uid="accounts-audit-login")
        user_logged_out.connect(signals.logged_out, dispatch_uid="accounts-audit-logout")
        user_login_failed.connect(signals.login_failed, dispatch_uid="accounts-audit-failed")
        post_save.connect(
            signals.admin_change, sender=LogEntry, dispatch_uid="accounts-audit-admin"
        )
