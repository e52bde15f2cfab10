import pytest

from tests.browser.conftest import PHONE, horizontal_overflow, login
from tests.conftest import PASSWORD


def test_worker_logs_in_switches_language_and_logs_out_on_a_phone(phone, people, tmp_path):
    page = phone
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    assert page.locator("h1").inner_text() == "登录"  # the phone asks for Chinese
    assert horizontal_overflow(page) == 0

    login(page, "13800000001", PASSWORD)
    assert "Wang Worker" in page.locator("[data-testid=greeting]").inner_text()
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(tmp_path / "home-zh.png"))

    page.click("button[value=en]")
    page.wait_for_selector("text=Hello, Wang Worker")
    assert page.locator("html").get_attribute("lang") == "en"
    page.reload()  # the choice sticks
    assert "Hello, Wang Worker" in page.locator("[data-testid=greeting]").inner_text()

    page.click("button[value=zh_CN]")
    page.wait_for_selector("html[lang=zh-CN]")

    page.click("summary")  # the menu
    page.click("[data-testid=logout]")
    page.wait_for_url("**/login")
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_on_a_phone_shows_the_reason(phone, people):
    page = phone
    page.goto("/login")
    page.fill("#login", "13800000001")
    page.fill("#password", "wrong-password-1")
    page.click("[data-testid=login-submit]")
    alert = page.locator(".flash-error")
    assert alert.is_visible()
    assert "/login" in page.url


def test_touch_targets_are_large_enough(phone, people):
    page = phone
    login(page, "13800000001", PASSWORD)
    page.click("summary")
    sizes = page.evaluate("""() => [...document.querySelectorAll(
        'button, .button, summary, nav a')].filter(e => e.offsetParent !== null)
        .map(e => [e.textContent.trim(), e.getBoundingClientRect().height])""")
    small = [(text, h) for text, h in sizes if h < 44]
    assert small == []


def test_pages_fit_a_360_pixel_screen(browser, live_server, people):
    context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740},
                                  is_mobile=True, has_touch=True, locale="en")
    page = context.new_page()
    try:
        login(page, "admin", PASSWORD)
        for path in ["/", "/account", "/admin/users", "/admin/users/new", "/admin/users/import",
                     "/admin/employers", "/admin/regions", "/admin/audit"]:
            page.goto(path)
            assert horizontal_overflow(page) == 0, path
    finally:
        context.close()


@pytest.mark.parametrize(("locale", "title", "greeting", "bye"), [
    ("en-US", "Log in", "Hello, Wang Worker", "You have logged out."),
    ("zh-CN", "登录", "您好，Wang Worker", "您已退出登录。"),
])
def test_log_in_and_out_in_each_language_on_a_phone(browser, live_server, people, locale,
                                                     title, greeting, bye):
    """A phone whose browser speaks English or Chinese: the whole round trip in that language."""
    context = browser.new_context(base_url=live_server, locale=locale, **PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/login")
        assert page.locator("h1").inner_text() == title
        assert horizontal_overflow(page) == 0
        login(page, "13800000001", PASSWORD)
        assert page.locator("[data-testid=greeting]").inner_text() == greeting
        page.click("summary")
        page.click("[data-testid=logout]")
        page.wait_for_url("**/login")
        assert bye in page.locator(".flash").first.inner_text()
        assert page.locator("h1").inner_text() == title
        assert horizontal_overflow(page) == 0
        page.goto("/")
        assert "/login" in page.url
    finally:
        context.close()
