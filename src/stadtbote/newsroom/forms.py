"""The compose form: what an editor types, checked by the same rules as everywhere
(broadcasts.actions); this form only turns the page's fields into those arguments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from stadtbote.broadcasts.models import MAX_TEXT, Post, Template
from stadtbote.subscribers.models import District, Subscriber, Topic


class AudienceForm(forms.Form):
    """Who gets a post or a poll, and when: the fields the post and the poll form share."""

    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.all(),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: everybody."),
    )
    districts = forms.ModelMultipleChoiceField(
        label=_("Districts"),
        queryset=District.objects.all(),
        required=False,
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the whole city."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("every language")), *Subscriber.Language.choices],
    )
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: as soon as it is approved."),
    )
    on_website = forms.BooleanField(label=_("Also on the website"), required=False, initial=True)

    def audience_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "topics": [t.slug for t in data["topics"]],
            "districts": [d.slug for d in data["districts"]],
            "language": data["language"] or "",
            "publish_at": data["publish_at"],
            "on_website": data["on_website"],
        }

    @staticmethod
    def audience_initial(post: Post) -> dict[str, Any]:
        return {
            "topics": list(post.topics.all()),
            "districts": list(post.districts.all()),
            "language": post.language,
            "publish_at": post.publish_at,
            "on_website": post.on_website,
        }


class PostForm(AudienceForm):
    field_order = [
        "title", "text", "link", "topics", "districts", "language", "template",
        "publish_at", "urgent", "share_footer", "on_website",
    ]  # fmt: skip

    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Text"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("*bold*, _italic_, ~struck~, ```monospace```; > quote; - list"),
    )
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https")
    template = forms.ChoiceField(label=_("Template outside the 24-hour window"), required=False)
    urgent = forms.BooleanField(
        label=_("Urgent warning"),
        required=False,
        help_text=_("Goes before everything, ignores quiet hours and the daily cap."),
    )
    share_footer = forms.BooleanField(label=_("Sharing footer"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = Template.objects.order_by("name").values_list("name", flat=True).distinct()
        template = self.fields["template"]
        assert isinstance(template, forms.ChoiceField)
        template.choices = [("", _("the default template")), *((n, n) for n in names)]

    def as_action_fields(self) -> dict[str, Any]:
        """The cleaned form as keyword arguments of actions.create_post / update_post."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "text": data["text"],
            "link": data["link"] or "",
            "template": data["template"] or None,
            "urgent": data["urgent"],
            "share_footer": data["share_footer"],
            **self.audience_fields(),
        }

    @classmethod
    def initial_for(cls, post: Post) -> dict[str, Any]:
        return {
            "title": post.title,
            "text": post.text,
            "link": post.link,
            "template": post.template.name if post.template else "",
            "urgent": post.urgent,
            "share_footer": post.share_footer,
            **cls.audience_initial(post),
        }
