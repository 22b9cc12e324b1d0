"""Staff roles (the permission matrix, case by case) and the audit log (who did what, when,
from where; never editable)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import DatabaseError, connection, transaction

from stadtbote.accounts import roles
from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.accounts.tokens import create_token
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post
from stadtbote.subscribers.models import Topic
from tests.helpers import active_subscriber, staff_login

pytestmark = pytest.mark.django_db

A, E, P, G, D, V = (
    Role.ADMINISTRATOR,
    Role.EDITOR,
    Role.APPROVER,
    Role.AGENT,
    Role.DATA_PROTECTION_OFFICER,
    Role.VIEWER,
)
EVERYONE = {A, E, P, G, D, V}

# What each capability is, and exactly who has it. Written out by hand, not derived from the
# matrix: a change to the matrix has to change this table too.
CAPABILITIES: list[tuple[str, str, set[Role]]] = [
    ("read posts and their funnels", "broadcasts.view_post", EVERYONE),
    ("write a post", "broadcasts.add_post", {E, P}),
    ("edit someone else's draft", "broadcasts.change_post", {E, P}),
    ("approve someone else's post", "broadcasts.approve_post", {P}),
    ("send an urgent post alone", "broadcasts.send_urgent_alone", {P}),
    ("record a Channel posting", "broadcasts.add_channelposting", {E, P}),
    # Polls are posts: written like posts, their results read like posts, and closed and
    # published by those who may change posts (tests/test_poll_results_page.py, per page).
    ("write a poll", "broadcasts.add_post", {E, P}),
    ("read a poll's results and download them", "broadcasts.view_post", EVERYONE),
    ("close a poll and publish its results", "broadcasts.change_post", {E, P}),
    ("give a template quick-reply buttons", "broadcasts.change_template", {A}),
    ("see the price table", "broadcasts.view_price", {A, E, P}),
    ("change prices", "broadcasts.change_price", {A}),
    ("register templates", "broadcasts.add_template", {A}),
    ("change topics", "subscribers.change_topic", {A}),
    ("delete districts", "subscribers.delete_district", {A}),
    ("edit the privacy notice and subscribe page", "public.change_pagetext", {A}),
    ("read what each privacy-notice version said", "public.view_noticeversion", {A, D}),
    ("change the privacy notice's history", "public.change_noticeversion", set()),
    ("change the sending rules", "broadcasts.change_sendingrules", {A}),
    ("show reaction counts in the public archive", "public.change_archivesettings", {A}),
    ("manage staff accounts", "auth.change_user", {A}),
    ("create staff accounts", "auth.add_user", {A}),
    ("change what a role may do", "auth.change_group", set()),
    ("revoke API tokens", "accounts.delete_apitoken", {A}),
    ("answer citizens", "dialogue.add_reply", {G}),
    ("read citizens' messages", "dialogue.view_receivedmessage", {G}),
    ("see subscriber records", "subscribers.view_subscriber", {D}),
    ("see phone numbers", "subscribers.view_phone_number", {D}),
    ("erase a subscriber", "subscribers.delete_subscriber", {D}),
    ("read the consent ledger", "subscribers.view_consentevent", {D}),
    ("read the audit log", "accounts.view_auditentry", {D}),
    ("change the audit log", "accounts.change_auditentry", set()),
    ("delete deliveries", "broadcasts.delete_delivery", set()),
    ("change the consent ledger", "subscribers.change_consentevent", set()),
]


@pytest.fixture
def staff(django_user_model):
    def make(*given: Role, name: str | None = None):
        user = django_user_model.objects.create(username=name or "-".join(given) or "nobody")
        roles.assign(user, *given)
        return django_user_model.objects.get(pk=user.pk)  # fresh: no cached permissions

    return make


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(
    ("capability", "permission", "allowed"), CAPABILITIES, ids=[c[0] for c in CAPABILITIES]
)
def test_the_permission_matrix(staff, role, capability, permission, allowed):
    assert staff(role).has_perm(permission) == (role in allowed), capability


def test_a_viewer_may_only_read(staff):
    viewer = staff(V)
    assert viewer.get_all_permissions()
    assert all(p.split(".", 1)[1].startswith("view_") for p in viewer.get_all_permissions())


def test_roles_add_up(staff):
    both = staff(E, D)
    assert both.has_perm("broadcasts.add_post") and both.has_perm("subscribers.view_phone_number")
    assert not both.has_perm("broadcasts.approve_post")


def test_a_permission_added_by_hand_is_taken_away_by_the_next_sync(staff):
    group = Group.objects.get(name=Role.VIEWER.value)
    group.permissions.add(Permission.objects.get(codename="approve_post"))
    roles.sync_roles()
    assert not staff(V).has_perm("broadcasts.approve_post")
    assert Group.objects.filter(name__in=[r.value for r in Role]).count() == len(Role)


def test_a_typo_in_the_matrix_fails_loudly(monkeypatch):
    monkeypatch.setitem(roles.MATRIX, Role.VIEWER, frozenset({"broadcasts.view_psot"}))
    with pytest.raises(LookupError, match="view_psot"):
        roles.sync_roles()


def test_administrators_and_approvers_need_a_second_factor(staff):
    assert roles.needs_second_factor(staff(A))
    assert roles.needs_second_factor(staff(P))
    assert roles.needs_second_factor(staff(E, P))
    assert not any(roles.needs_second_factor(staff(r)) for r in (E, G, D, V))


def test_assigning_no_role_takes_away_access_to_the_staff_app(staff):
    user = staff(E)
    assert user.is_staff
    roles.assign(user)
    assert not user.is_staff and roles.roles_of(user) == set()


# --- the matrix, as behaviour ------------------------------------------------------------------


def test_an_editor_cannot_approve_her_own_post_nor_anyone_elses(staff):
    editor = staff(E, name="erika")
    post = actions.create_post(editor, title="Fest", text="Am Samstag")
    actions.submit(post, editor)
    with pytest.raises(actions.NotAllowed):
        actions.approve(post, editor)
    other = actions.create_post(staff(E, name="emil"), title="Markt", text="Dienstag")
    with pytest.raises(actions.NotAllowed):
        actions.approve(other, editor)


def test_an_approver_approves_others_but_not_her_own_ordinary_post(staff):
    approver = staff(P, name="paula")
    own = actions.create_post(approver, title="Fest", text="Am Samstag")
    actions.submit(own, approver)
    with pytest.raises(actions.NotAllowed):
        actions.approve(own, approver, alone_reason="eilig")
    editor = staff(E, name="erika")
    post = actions.create_post(editor, title="Markt", text="Dienstag")
    actions.submit(post, editor)
    assert actions.approve(post, approver).status == Post.Status.SENDING


def test_an_approver_sends_an_urgent_warning_alone_with_a_reason(staff):
    approver = staff(P, name="paula")
    post = actions.create_post(approver, title="Sturm", text="Bleiben Sie drinnen", urgent=True)
    assert actions.approve(post, approver, alone_reason="Unwetterwarnung").urgent_reason


def _api(client, user, method: str, path: str, body: dict | None = None, **extra):
    call = getattr(client, method)
    return call(
        f"/api/v1{path}",
        body or {},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {create_token(user)}",
        **extra,
    )


@pytest.mark.parametrize("role", [G, V, A, D], ids=lambda r: r.value)
def test_who_may_not_write_cannot_create_a_post_through_the_api(client, staff, role):
    response = _api(client, staff(role), "post", "/posts", {"title": "T", "text": "x"})
    assert response.status_code == 403
    assert not Post.objects.exists()


@pytest.mark.parametrize("role", [E, G, V, A, D], ids=lambda r: r.value)
@pytest.mark.parametrize("step", ["approve", "reject", "cancel", "pause", "resume"])
def test_only_approvers_decide_about_a_post_through_the_api(client, staff, role, step):
    author = staff(E, name="erika")
    post = actions.create_post(author, title="Fest", text="Am Samstag")
    actions.submit(post, author)
    body = {"comment": "nein"} if step == "reject" else {}
    response = _api(client, staff(role, name="other"), "post", f"/posts/{post.pk}/{step}", body)
    assert response.status_code == 403
    post.refresh_from_db()
    assert post.status == Post.Status.SUBMITTED


def test_only_the_data_protection_officer_may_export_subscribers_in_the_admin(client, staff):
    active_subscriber()
    for role, allowed in [(D, True), (A, False), (E, False), (V, False)]:
        user = staff(role, name=f"u-{role.value}")
        staff_login(client, user)
        response = client.get("/admin/subscribers/subscriber/")
        offered = b'value="export_json"' in response.content
        assert offered == allowed, role
        client.logout()


# --- the audit log ---------------------------------------------------------------------------


def test_approving_through_the_api_is_recorded_with_who_and_from_where(client, staff):
    author = staff(E, name="erika")
    post = actions.create_post(author, title="Fest", text="Am Samstag")
    actions.submit(post, author)
    approver = staff(P, name="paula")
    response = _api(client, approver, "post", f"/posts/{post.pk}/approve", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="post.approved")
    assert (entry.actor_id, entry.actor_name) == (approver.pk, "paula")
    assert (entry.target_type, entry.target_id, entry.target_label) == (
        "post",
        str(post.pk),
        "Fest",
    )
    assert (entry.ip, entry.via) == ("10.1.2.3", "api")
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="post.")][::-1] == [
        "post.created",
        "post.submitted",
        "post.approved",
    ]
    created = AuditEntry.objects.get(action="post.created")
    assert created.via == "system" and created.ip is None  # not in a request


def test_behind_a_proxy_the_address_it_forwarded_is_recorded(client, staff, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    editor = staff(E)
    headers = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.7"}
    response = _api(client, editor, "post", "/posts", {"title": "T", "text": "x"}, **headers)
    assert response.status_code == 201
    assert AuditEntry.objects.get(action="post.created").ip == "192.0.2.7"


def test_a_forwarded_address_is_ignored_without_a_trusted_proxy(client, staff):
    editor = staff(E)
    headers = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "6.6.6.6"}
    _api(client, editor, "post", "/posts", {"title": "T", "text": "x"}, **headers)
    assert AuditEntry.objects.get(action="post.created").ip == "203.0.113.9"


def test_a_refused_action_leaves_no_entry(client, staff):
    _api(client, staff(V), "post", "/posts", {"title": "T", "text": "x"})
    assert not AuditEntry.objects.filter(action__startswith="post.").exists()


def test_a_change_in_the_admin_is_recorded(client, staff):
    admin = staff(A, name="ida")
    staff_login(client, admin)
    response = client.post(
        "/admin/subscribers/topic/add/",
        {"name": "Baustellen", "slug": "baustellen", "description": "", "position": 0},
    )
    assert response.status_code == 302, response.content[:500]
    entry = AuditEntry.objects.get(action="admin.added")
    assert entry.actor_name == "ida" and entry.target_label == "Baustellen"
    assert entry.details["model"] == "topic" and entry.via == "admin"
    assert Topic.objects.filter(slug="baustellen").exists()


def test_logins_and_failed_logins_are_recorded_without_the_password(client, staff):
    user = staff(E, name="erika")
    user.set_password("ein langes Passwort")
    user.save()
    assert not client.login(username="erika", password="falsch falsch falsch")
    assert client.login(username="erika", password="ein langes Passwort")
    failed = AuditEntry.objects.get(action="login.failed")
    assert failed.details == {"username": "erika"} and failed.actor_id is None
    assert "falsch" not in str(failed.details)
    assert AuditEntry.objects.filter(action="login.succeeded", actor_id=user.pk).exists()


def test_a_staff_erasure_names_the_subscriber_by_id_only(staff):
    from stadtbote.subscribers import actions as subscriber_actions

    subscriber = active_subscriber("491701234567")
    pk = subscriber.pk
    dpo = staff(D)
    subscriber_actions.erase(subscriber, wording="on request", channel="staff", by=dpo)
    entry = AuditEntry.objects.get(action="subscriber.erased")
    assert entry.target_label == "" and entry.target_id == str(pk)
    assert "491701234567" not in str(entry.details) + entry.target_label


def test_the_audit_log_cannot_be_changed_or_deleted(staff):
    entry = actions.create_post(staff(E), title="Fest", text="x") and AuditEntry.objects.get()
    entry.action = "nothing happened"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(action="nothing")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    table = AuditEntry._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.get().action == "post.created"


def test_the_audit_log_is_read_only_in_the_admin_and_only_for_the_officer(client, staff):
    actions.create_post(staff(E), title="Fest", text="x")
    entry = AuditEntry.objects.get()
    officer = staff(D, name="dora")
    staff_login(client, officer)
    listing = client.get("/admin/accounts/auditentry/?action=post.created")
    assert listing.status_code == 200 and b"post.created" in listing.content
    assert client.get(f"/admin/accounts/auditentry/{entry.pk}/change/").status_code == 200
    assert client.post(f"/admin/accounts/auditentry/{entry.pk}/delete/").status_code == 403
    client.logout()
    staff_login(client, staff(A, name="ida"))
    assert client.get("/admin/accounts/auditentry/").status_code == 403


def test_the_demo_logins_have_one_role_each_and_none_is_a_superuser(django_user_model):
    from stadtbote import demo

    for name, role in demo.DEMO_ROLES.items():
        username, password = demo.reset_demo_user(name)
        user = django_user_model.objects.get(username=username)
        assert roles.roles_of(user) == {role} and user.is_staff and not user.is_superuser
        assert user.check_password(password)
