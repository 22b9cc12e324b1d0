from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError("the audit log is append-only")

    def delete(self) -> NoReturn:
        raise PermissionError("the audit log is append-only")


class ApiToken(models.Model):
    """A REST API token. Only its SHA-256 is stored; the token is shown once, when created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    digest = models.CharField(max_length=64, unique=True, verbose_name=_("digest"))
    prefix = models.CharField(
        max_length=8,
        help_text=_("the first characters, to tell tokens apart"),
        verbose_name=_("prefix"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))
    # For systems that only read (the city's CMS showing posts): refused for any change.
    read_only = models.BooleanField(default=False, db_default=False, verbose_name=_("read only"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditEntry(models.Model):
    """One state-changing action by staff (or by the system on their behalf): who, what, on
    what, when and from where. Written by `accounts.audit.record`, never changed or deleted
    (guarded here and by database triggers, see migration 0002); read by the data protection
    officer. It names staff, never citizens: a subscriber appears by id only, and details carry
    no phone number and no message text."""

    at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("time"))
    # No database constraint: a deleted account's entries stay as they were, with its name.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(
        max_length=150, blank=True, verbose_name=_("actor name")
    )  # "" for the system
    action = models.CharField(
        max_length=60, db_index=True, verbose_name=_("action")
    )  # e.g. "post.approved"
    target_type = models.CharField(max_length=40, blank=True, verbose_name=_("target type"))
    target_id = models.CharField(max_length=40, blank=True, verbose_name=_("target id"))
    target_label = models.CharField(max_length=200, blank=True, verbose_name=_("target label"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    via = models.CharField(
        max_length=10, blank=True, verbose_name=_("via")
    )  # web, api, admin, system

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("the audit log is append-only")


class LoginFailure(models.Model):
    """A failed password or second-factor check, kept for the lockout window only (see
    accounts.lockout). The name typed is kept as typed: it may belong to no account."""

    at = models.DateTimeField(auto_now_add=True, verbose_name=_("time"))
    username = models.CharField(max_length=150, db_index=True, verbose_name=_("username"))
    ip = models.GenericIPAddressField(
        null=True, blank=True, db_index=True, verbose_name=_("IP address")
    )

    class Meta:
        verbose_name = _("login failure")
        verbose_name_plural = _("login failures")

    def __str__(self) -> str:
        return f"{self.username} at {self.at:%Y-%m-%d %H:%M}"
