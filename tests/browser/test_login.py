"""In a browser: the log-in page is in Chinese, and each demo role lands on its home page."""

import pytest

from tests.browser.conftest import screenshot

ROLES = [
    ("demo-inspector", "inspector", "监督员"),
    ("demo-operator", "operator", "受理员"),
    ("demo-chief", "duty_chief", "值班长"),
    ("demo-dispatcher", "dispatcher", "派遣员"),
    ("demo-handler", "handler", "处置"),
    ("demo-leader", "leader", "领导"),
    ("demo-admin", "admin", "管理员"),
]


@pytest.mark.django_db(transaction=True)
def test_login_page_in_chinese_and_every_role_lands_home(page, demo_people):
    page.goto(page.base_url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_role("button", name="登录").is_visible()
    screenshot(page, "login")
    for username, role, label in ROLES:
        page.goto(page.base_url + "/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill("cityops-demo")
        page.get_by_role("button", name="登录").click()
        heading = page.get_by_test_id("role-home")
        heading.wait_for()
        assert heading.get_attribute("data-role") == role
        assert label in heading.inner_text()
        screenshot(page, f"home-{role}")
        page.get_by_role("button", name="退出").click()
        page.get_by_role("button", name="登录").wait_for()


@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_a_clear_message(page, demo_people):
    page.goto(page.base_url + "/login/")
    page.get_by_label("用户名").fill("demo-chief")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_text("用户名或密码不正确").is_visible()
