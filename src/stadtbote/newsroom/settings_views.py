"""The newsroom's settings, one page per area, for administrators (and the privacy notice's
history for the data protection officer too). Thin views: the forms check the input, the
domain functions change it and write the audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from stadtbote.accounts import audit
from stadtbote.broadcasts import prices, sending_rules, templates
from stadtbote.broadcasts.models import Price, Template
from stadtbote.channels.types import TransportError
from stadtbote.lib.problems import localised
from stadtbote.newsroom import settings_forms as f
from stadtbote.newsroom.views import _user, staff
from stadtbote.public import archive_settings, privacy_notice
from stadtbote.public.models import PageText
from stadtbote.public.pages import DEFAULTS
from stadtbote.subscribers import catalog
from stadtbote.subscribers.models import District, Topic


def _page(request: HttpRequest, name: str, area: str, **context: Any) -> HttpResponse:
    return render(request, f"newsroom/settings/{name}.html", {"area": area, **context})


@staff("broadcasts.change_template")
def overview(request: HttpRequest) -> HttpResponse:
    """How the installation is connected to WhatsApp, with a test of the connection."""
    check = None
    if request.method == "POST":
        check = templates.check_connection()
        audit.record(_user(request), "whatsapp.connection_tested", ok=check.ok)
    whatsapp = django_settings.WHATSAPP
    return _page(
        request,
        "overview",
        "overview",
        check=check,
        connection={
            "base_url": whatsapp["API_BASE_URL"],
            "version": whatsapp["API_VERSION"],
            "phone_number_id": whatsapp["PHONE_NUMBER_ID"],
            "business_account_id": whatsapp["BUSINESS_ACCOUNT_ID"],
            "token_set": bool(whatsapp["ACCESS_TOKEN"]),
            "app_secret_set": bool(whatsapp["APP_SECRET"]),
        },
        limits={
            "rate": django_settings.WHATSAPP_MESSAGES_PER_SECOND,
            "tier": django_settings.WHATSAPP_DAILY_UNIQUE_USERS,
        },
        rules=sending_rules.current(),
    )


@staff("broadcasts.change_sendingrules")
def sending(request: HttpRequest) -> HttpResponse:
    rules = sending_rules.current()
    initial = {
        "quiet_hours_start": rules.quiet_hours_start,
        "quiet_hours_end": rules.quiet_hours_end,
        "daily_cap": rules.daily_cap,
        "monthly_budget": rules.monthly_budget,
        "budget_blocks": rules.budget_blocks,
    }
    form = f.SendingRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        sending_rules.change(_user(request), form.rules())
        messages.success(request, _("Saved. The workers apply the new rules within seconds."))
        return redirect("newsroom-settings-sending")
    return _page(
        request,
        "sending",
        "sending",
        form=form,
        from_environment=not sending_rules.is_stored(),
        cache_seconds=int(sending_rules.CACHE_SECONDS),
    )


# Topics and districts: the same pages for both.
_CHOICES: dict[str, tuple[type[Topic] | type[District], type[ModelForm[Any]], str]] = {
    "topics": (Topic, f.TopicForm, "subscribers.change_topic"),
    "districts": (District, f.DistrictForm, "subscribers.change_district"),
}


def _kind(request: HttpRequest, kind: str) -> tuple[Any, Any]:
    if kind not in _CHOICES:
        raise Http404("no such list")
    model, form_class, permission = _CHOICES[kind]
    if not request.user.has_perm(permission):
        raise PermissionDenied
    return model, form_class


@staff()
def choices(request: HttpRequest, kind: str) -> HttpResponse:
    model, form_class = _kind(request, kind)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.add(_user(request), model, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Added."))
            return redirect("newsroom-settings-choices", kind)
    items = model.objects.order_by("position", "name")
    return _page(request, "choices", kind, kind=kind, items=items, form=form)


@staff()
def choice(request: HttpRequest, kind: str, item_id: int) -> HttpResponse:
    model, form_class = _kind(request, kind)
    item = get_object_or_404(model, pk=item_id)
    form = form_class(request.POST or None, instance=model.objects.get(pk=item.pk))
    if request.method == "POST" and form.is_valid():
        try:
            catalog.change(_user(request), item, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("newsroom-settings-choices", kind)
    return _page(
        request,
        "choice",
        kind,
        kind=kind,
        item=item,
        form=form,
        blocked=catalog.why_not_deleted(item),
    )


@require_POST
@staff()
def choice_step(request: HttpRequest, kind: str, item_id: int, name: str) -> HttpResponse:
    model, _form = _kind(request, kind)
    item = get_object_or_404(model, pk=item_id)
    if name in ("up", "down"):
        catalog.move(_user(request), item, -1 if name == "up" else 1)
    elif name == "delete":
        try:
            catalog.delete(_user(request), item)
        except catalog.CatalogError as exc:
            messages.error(request, str(exc))
            return redirect("newsroom-settings-choice", kind, item_id)
        messages.success(request, _("Deleted."))
    else:
        raise Http404("no such step")
    return redirect("newsroom-settings-choices", kind)


@staff("broadcasts.change_price", "broadcasts.add_price")
def price_table(request: HttpRequest) -> HttpResponse:
    rows = list(Price.objects.order_by("country", "category"))
    which = request.POST.get("form") if request.method == "POST" else None
    table = f.PricesForm(request.POST if which == "amounts" else None, prices=rows)
    country = f.CountryForm(request.POST if which == "country" else None, prefix="new")
    if which == "amounts" and table.is_valid():
        n = prices.change_amounts(_user(request), table.amounts())
        messages.success(request, _("Saved; %(n)d prices changed.") % {"n": n})
        return redirect("newsroom-settings-prices")
    if which == "country" and country.is_valid():
        try:
            prices.add_country(_user(request), country.cleaned_data["country"], country.amounts())
        except prices.PriceError as exc:
            country.add_error("country", str(exc))
        else:
            messages.success(request, _("Country added."))
            return redirect("newsroom-settings-prices")
    return _page(request, "prices", "prices", table=table, country=country)


@staff("broadcasts.change_template")
def template_list(request: HttpRequest) -> HttpResponse:
    adding = request.method == "POST" and request.POST.get("form") == "add"
    if adding and not request.user.has_perm("broadcasts.add_template"):
        raise PermissionDenied
    form = f.TemplateForm(request.POST if adding else None, prefix="new")
    if adding and form.is_valid():
        try:
            template = templates.create(_user(request), **form.cleaned_data)
        except templates.TemplateError as exc:
            form.add_error(None, localised(exc))
        else:
            _submit(request, template)
            return redirect("newsroom-settings-templates")
    elif request.method == "POST" and not adding:
        check = templates.check_connection()  # fetches Meta's states and applies them
        audit.record(_user(request), "settings.templates_synced", ok=check.ok)
        if check.ok:
            messages.success(request, _("Meta's verdicts are up to date."))
        else:
            messages.error(
                request, _("Meta could not be asked: %(detail)s") % {"detail": check.detail}
            )
        return redirect("newsroom-settings-templates")
    return _page(
        request,
        "templates",
        "templates",
        templates=Template.objects.order_by("name", "language"),
        form=form,
    )


def _submit(request: HttpRequest, template: Template) -> None:
    """Registers the template with Meta and says how that went; if Meta cannot be reached the
    template stays unsubmitted, to be submitted again from its page."""
    try:
        done = templates.submit(_user(request), template)
    except (templates.TemplateError, TransportError) as exc:
        messages.error(
            request,
            _("Saved, but not submitted to Meta: %(detail)s") % {"detail": localised(exc)},
        )
    else:
        messages.success(
            request,
            _("Submitted to Meta: %(status)s.") % {"status": done.get_status_display()},
        )


@staff("broadcasts.change_template")
def template_page(request: HttpRequest, template_id: int) -> HttpResponse:
    """A template's text and buttons; changeable, and submitted to Meta, until Meta has it."""
    template = get_object_or_404(Template, pk=template_id)
    which = request.POST.get("form") if request.method == "POST" else None
    initial = {
        "category": template.category,
        "body": template.body,
        "buttons": "\n".join(template.buttons or []),
    }
    form = f.TemplateForm(
        request.POST if which == "save" else None, existing=template, initial=initial
    )
    if which == "save" and form.is_valid():
        data = form.cleaned_data
        try:
            templates.change(
                _user(request),
                template,
                category=data["category"],
                body=data["body"],
                buttons=data["buttons"],
            )
        except templates.TemplateError as exc:
            form.add_error(None, localised(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("newsroom-settings-template", template.pk)
    elif which == "submit":
        _submit(request, template)
        return redirect("newsroom-settings-template", template.pk)
    elif request.method == "POST":
        raise Http404("no such form")
    return _page(
        request,
        "template",
        "templates",
        template=template,
        form=form if template.status == Template.Status.DRAFT else None,
    )


@staff("public.change_archivesettings")
def archive(request: HttpRequest) -> HttpResponse:
    """What the public archive shows besides the posts: their reaction counts, or not."""
    # Not `request.POST or None`: an unticked box sends nothing, and an empty form is an answer.
    data = request.POST if request.method == "POST" else None
    form = f.ArchiveSettingsForm(data, instance=archive_settings.current())
    if request.method == "POST" and form.is_valid():
        archive_settings.change(_user(request), show_reactions=form.cleaned_data["show_reactions"])
        messages.success(request, _("Saved. The archive's pages show it at once."))
        return redirect("newsroom-settings-archive")
    return _page(request, "archive", "archive", form=form)


@staff("public.view_noticeversion")
def privacy(request: HttpRequest) -> HttpResponse:
    may_publish = request.user.has_perm("public.change_pagetext")
    if request.method == "POST" and not may_publish:
        raise PermissionDenied
    which = request.POST.get("form") if request.method == "POST" else None
    notice = f.PrivacyNoticeForm(
        request.POST if which == "privacy" else None,
        prefix="privacy",
        initial=_initial(PageText.Page.PRIVACY),
    )
    subscribe = f.SubscribePageForm(
        request.POST if which == "subscribe" else None,
        prefix="subscribe",
        initial=_initial(PageText.Page.SUBSCRIBE),
    )
    if which == "privacy" and notice.is_valid():
        try:
            privacy_notice.publish(_user(request), **notice.cleaned_data)
        except privacy_notice.NoticeError as exc:
            notice.add_error("version", str(exc))
        else:
            messages.success(request, _("The privacy notice is published."))
            return redirect("newsroom-settings-privacy")
    if which == "subscribe" and subscribe.is_valid():
        privacy_notice.change_subscribe_page(_user(request), **subscribe.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("newsroom-settings-privacy")
    return _page(
        request,
        "privacy",
        "privacy",
        may_publish=may_publish,
        notice=notice,
        subscribe=subscribe,
        history=privacy_notice.history(),
    )


def _initial(kind: PageText.Page) -> dict[str, str]:
    stored = PageText.objects.filter(page=kind).first()
    if stored is not None:
        return {"title": stored.title, "body": stored.body, "version": stored.version}
    title, body = DEFAULTS[kind]
    return {
        "title": str(title),
        "body": str(body),
        "version": django_settings.PRIVACY_NOTICE_VERSION,
    }
