import pytest
from django.urls import reverse

DEMO_ROLES = [
    ("demo-inspector", "inspector"),
    ("demo-operator", "operator"),
    ("demo-chief", "duty-chief"),
    ("demo-dispatcher", "dispatcher"),
    ("demo-handler", "handler"),
    ("demo-leader", "leader"),
    ("demo-admin", "admin"),
]


def test_login_page_is_chinese_by_default(client, db):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:login")
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "登录" in html


def test_login_page_in_english_on_request(client, db):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in response.content.decode()


@pytest.mark.parametrize(("username", "slug"), DEMO_ROLES)
def test_each_demo_role_lands_on_its_home(client, demo_people, username, slug):
    response = client.post(
        reverse("accounts:login"), {"username": username, "password": "cityops-demo"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:role_home", kwargs={"role": slug})
    assert f'data-role="{slug.replace("-", "_")}"' in response.content.decode()


def test_wrong_password_is_refused_with_a_clear_message(client, demo_people):
    response = client.post(reverse("accounts:login"), {"username": "demo-chief", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_role_page_needs_the_role(client, demo_people):
    client.force_login(demo_people["demo-handler"])
    assert client.get(reverse("accounts:role_home", kwargs={"role": "dispatcher"})).status_code == 403
    assert client.get(reverse("accounts:role_home", kwargs={"role": "no-such-role"})).status_code == 404
    assert client.get(reverse("accounts:role_home", kwargs={"role": "handler"})).status_code == 200


def test_role_pages_need_login(client, db):
    response = client.get(reverse("accounts:role_home", kwargs={"role": "leader"}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_logout(client, demo_people):
    client.force_login(demo_people["demo-leader"])
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_person_without_role_is_told_so(client, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("lonely", password="a-long-password-1")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 403
    assert "没有角色" in response.content.decode()
