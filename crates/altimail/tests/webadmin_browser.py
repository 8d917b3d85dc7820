"""The web administration in a real browser (Debian's chromium and chromedriver, driven by
Selenium): log on as Administrator, add a domain and accounts, edit them, a domain
administrator who sees only its own domain, a user who sees only itself, removals that show
what goes first. Arguments: the administration's base URL (http://127.0.0.1:PORT) and the
administrator password. Prints "ok" when every step passed; fails with the step otherwise."""

import sys

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

base, admin_password = sys.argv[1], sys.argv[2]

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"]:
    options.add_argument(a)
driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)


def fail(step, why):
    print(f"FAILED at {step}: {why}\nURL {driver.current_url}\n{driver.page_source[:3000]}", file=sys.stderr)
    driver.quit()
    sys.exit(1)


def go(path):
    driver.get(base + path)


def by_id(i):
    return driver.find_element(By.ID, i)


def click(element, how="click"):
    """Clicks (or submits) and waits for the next page: a form's answer is a new page."""
    old = driver.find_element(By.TAG_NAME, "html")
    getattr(element, how)()
    # While the page changes, the driver may fail to look at the old one: ask again.
    WebDriverWait(driver, 30, ignored_exceptions=[WebDriverException]).until(expected_conditions.staleness_of(old))


def fill(name, value, form=None):
    root = form if form is not None else driver
    e = root.find_element(By.NAME, name)
    e.clear()
    e.send_keys(value)


def flash():
    found = driver.find_elements(By.ID, "flash")
    return found[0].text if found else ""


def expect_notice(step, contains):
    f = driver.find_elements(By.CSS_SELECTOR, "p.notice#flash")
    if not f or contains not in f[0].text:
        fail(step, f"expected a notice with {contains!r}, got {flash()!r}")


def expect_error(step, contains):
    f = driver.find_elements(By.CSS_SELECTOR, "p.error#flash, p.error#error")
    if not f or contains not in f[0].text:
        fail(step, f"expected an error with {contains!r}, got {[e.text for e in f]!r}")


def log_on(user, password):
    go("/admin/logon")
    by_id("user").send_keys(user)
    by_id("password").send_keys(password)
    click(by_id("logon"))


def log_out():
    click(by_id("logout"))
    if "/admin/logon" not in driver.current_url:
        fail("log out", "not back at the logon form")


try:
    # A wrong password: back at the form with the refusal.
    log_on("Administrator", "wrong")
    expect_error("wrong password", "wrong user name or password")

    # Administrator: the status page first.
    log_on("Administrator", admin_password)
    if not driver.current_url.endswith("/admin/status"):
        fail("logon as Administrator", "not on the status page")
    if by_id("state").text != "Running" or "message(s)" not in by_id("queue").text:
        fail("status page", "no state or queue size")
    if by_id("who").text != "Administrator":
        fail("status page", "the header does not name the user")

    # Add two domains.
    for name in ["webadmin.test", "other.test"]:
        go("/admin/domains")
        fill("name", name, by_id("add-domain"))
        click(by_id("add-domain"), "submit")
        expect_notice("add domain " + name, f"Domain {name} added")
    go("/admin/domains")
    rows = by_id("domains").text
    if "webadmin.test" not in rows or "other.test" not in rows:
        fail("domain list", rows)
    # The service's rules, word for word: the same name twice is refused.
    fill("name", "WEBADMIN.test", by_id("add-domain"))
    click(by_id("add-domain"), "submit")
    expect_error("duplicate domain", "already exists")

    # Edit the domain: a largest account size.
    go("/admin/domains/webadmin.test")
    fill("max_account_size_mb", "200")
    click(by_id("save-domain"))
    expect_notice("save domain", "saved")
    if by_id("max_account_size_mb").get_attribute("value") != "200":
        fail("save domain", "the size did not stay")
    # A domain alias.
    fill("alias", "webadmin-alias.test")
    click(by_id("new-domain-alias"), "submit")
    expect_notice("domain alias", "another name")
    if "webadmin-alias.test" not in by_id("domain-aliases").text:
        fail("domain alias", "not listed")

    # Accounts: a user and a domain administrator; the quota rule of the domain applies.
    go("/admin/domains/webadmin.test/accounts")
    fill("address", "big@webadmin.test")
    fill("password", "big-secret-1")
    fill("quota_mb", "500")
    click(by_id("create-account"))
    expect_error("quota above the domain's", "at most 200 MB")
    for address, level in [("john@webadmin.test", "0"), ("boss@webadmin.test", "1")]:
        go("/admin/domains/webadmin.test/accounts")
        fill("address", address)
        fill("password", "secret-pw-1")
        fill("quota_mb", "100")
        Select(by_id("new-level")).select_by_value(level)
        click(by_id("create-account"))
        expect_notice("add account " + address, f"Account {address} added")
    go("/admin/domains/other.test/accounts")
    fill("address", "mary@other.test")
    fill("password", "secret-pw-2")
    click(by_id("create-account"))
    expect_notice("add account mary", "added")

    # Edit john: auto-reply, forwarding, name.
    go("/admin/accounts/john@webadmin.test")
    if "In use: 0 bytes" not in by_id("usage").text:
        fail("account page", "no usage: " + by_id("usage").text)
    fill("first_name", "John")
    if not by_id("vacation_on").is_selected():
        by_id("vacation_on").click()
    fill("vacation_subject", "Away")
    fill("vacation_message", "Back on Monday.")
    if not by_id("forward_on").is_selected():
        by_id("forward_on").click()
    fill("forward_address", "john@elsewhere.test")
    click(by_id("save-account"))
    expect_notice("save account", "saved")
    if not by_id("vacation_on").is_selected() or by_id("vacation_subject").get_attribute("value") != "Away":
        fail("save account", "the auto-reply did not stay")
    if by_id("forward_address").get_attribute("value") != "john@elsewhere.test":
        fail("save account", "forwarding did not stay")

    # An alias and a list with a member.
    go("/admin/domains/webadmin.test/aliases")
    fill("name", "sales@webadmin.test")
    fill("target", "john@webadmin.test")
    click(by_id("create-alias"))
    expect_notice("add alias", "added")
    go("/admin/domains/webadmin.test/lists")
    fill("address", "all@webadmin.test")
    click(by_id("create-list"))
    expect_notice("add list", "added")
    fill("address", "john@webadmin.test", by_id("add-member"))
    click(by_id("add-member-button"))
    expect_notice("add member", "added")
    if "john@webadmin.test" not in by_id("members").text:
        fail("add member", "not listed")
    log_out()

    # The domain administrator: its own domain only.
    log_on("boss@webadmin.test", "secret-pw-1")
    if "/admin/domains/webadmin.test" not in driver.current_url:
        fail("domain admin logon", "not on its domain")
    go("/admin/domains")
    rows = by_id("domains").text
    if "webadmin.test" not in rows or "other.test" in rows:
        fail("domain admin's domain list", rows)
    if driver.find_elements(By.ID, "add-domain"):
        fail("domain admin's domain list", "offers to add domains")
    for path in ["/admin/domains/other.test", "/admin/domains/other.test/accounts", "/admin/accounts/mary@other.test", "/admin/status"]:
        go(path)
        expect_error("domain admin on " + path, "may not")
    go("/admin/accounts/john@webadmin.test")
    fill("last_name", "Doe")
    click(by_id("save-account"))
    expect_notice("domain admin edits an account", "saved")
    log_out()

    # A user: only itself, without quota, state or level.
    log_on("john@webadmin.test", "secret-pw-1")
    if "/admin/accounts/john@webadmin.test" not in driver.current_url:
        fail("user logon", "not on its account")
    if driver.find_elements(By.ID, "quota_mb") or driver.find_elements(By.ID, "admin_level"):
        fail("user's page", "offers quota or level")
    by_id("vacation_on").click()  # off
    click(by_id("save-account"))
    expect_notice("user edits itself", "saved")
    for path in ["/admin/domains", "/admin/domains/webadmin.test", "/admin/accounts/boss@webadmin.test"]:
        go(path)
        expect_error("user on " + path, "may not")
    log_out()

    # Back as Administrator: removals show what goes first.
    log_on("Administrator", admin_password)
    go("/admin/accounts/john@webadmin.test/remove")
    if "0 message(s)" not in by_id("contents").text:
        fail("account removal", by_id("contents").text)
    click(by_id("confirm-remove"))
    expect_notice("remove account", "removed")
    go("/admin/domains/webadmin.test/remove")
    if "1 account(s)" not in by_id("contents").text:
        fail("domain removal page", by_id("contents").text)
    # Without the box ticked, a domain with accounts stays (the command line's --force).
    click(by_id("confirm-remove"))
    expect_error("domain removal without force", "nothing removed")
    by_id("force").click()
    click(by_id("confirm-remove"))
    expect_notice("domain removal", "removed")
    go("/admin/domains")
    if "webadmin.test" in by_id("domains").text:
        fail("domain removal", "still listed")
    log_out()
    # After logout the pages ask for a logon again.
    go("/admin/domains")
    if "/admin/logon" not in driver.current_url:
        fail("after logout", "a page without logon")
finally:
    pass

driver.quit()
print("ok")
