from __future__ import annotations

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
