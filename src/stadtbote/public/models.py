from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PageText(models.Model):
    """A public page's text, written by the city (the subscribe page, the privacy notice).

    The privacy notice's version is what every consent records; change it whenever the
    notice changes in substance.
    """

    class Page(models.TextChoices):
        SUBSCRIBE = "subscribe", _("subscribe page")
        PRIVACY = "privacy", _("privacy notice")

    page = models.CharField(
        max_length=20, choices=Page.choices, unique=True, verbose_name=_("page")
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Paragraphs are separated by an empty line."))
    version = models.CharField(
        _("version"), max_length=20, blank=True, help_text=_("Privacy notice: e.g. 2026-11")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("page text")
        verbose_name_plural = _("page texts")

    def __str__(self) -> str:
        return self.get_page_display()


class NoticeVersion(models.Model):
    """One published version of the privacy notice, kept for good: the consent ledger records
    only the version a citizen saw, and this says what that version said. Written when the
    notice is saved with a new version (public.privacy_notice.publish); never changed."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    published_at = models.DateTimeField(_("published at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Kept as written: the account may be renamed or removed later.
    published_by_name = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("privacy notice version")
        verbose_name_plural = _("privacy notice versions")

    def __str__(self) -> str:
        return self.version

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("a published privacy notice is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("a published privacy notice is never deleted")


class ArchiveSettings(models.Model):
    """What the public archive shows beyond the posts themselves, set by an administrator
    (public.archive_settings.change). One row at most; until it is saved the defaults apply."""

    show_reactions = models.BooleanField(
        _("show reaction counts in the public archive"),
        default=False,
        help_text=_(
            "Each post's page shows how many people reacted with which emoji in the chat: "
            "counts only, as of the figures' last count (every minute)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("archive settings")
        verbose_name_plural = _("archive settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="archive_once")]

    def __str__(self) -> str:
        return str(_("archive settings"))
