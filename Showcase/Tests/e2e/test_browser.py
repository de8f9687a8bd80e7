"""Headless Chromium (Debian's chromium and chromium-driver, Selenium from PyPI) against two
instances sharing one redis-server; a line client on a third sees both browsers."""
import os
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

from conftest import ChatProcess
from test_redis import free_port, redis_server  # noqa: F401 (fixture)

SCREENSHOT = os.environ.get("CHAT_SCREENSHOT")


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=420,760"]:
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait_for(driver, predicate, timeout=15):
    # The page re-renders its lists as events come: an element found a moment ago may be gone
    # when read; that is "not yet", not a failure.
    WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: predicate(d)
    )


def log_lines(driver):
    return [p.text for p in driver.find_elements(By.CSS_SELECTOR, "#log p")]


def status(driver):
    return driver.find_element(By.ID, "status").text


def say(driver, text):
    field = driver.find_element(By.ID, "text")
    field.send_keys(text)
    driver.find_element(By.ID, "send").click()


def open_page(driver, chat, nick):
    driver.get(f"http://127.0.0.1:{chat.http_port}/")
    wait_for(driver, lambda d: status(d) == "online")
    field = driver.find_element(By.ID, "nick")
    field.clear()
    field.send_keys(nick)
    driver.find_element(By.CSS_SELECTOR, "#nick-form button").click()
    wait_for(driver, lambda d: nick in [li.text for li in d.find_elements(By.CSS_SELECTOR, "#who li")])


def test_two_browsers_on_two_instances_and_a_line_client(redis_server, start_chat):
    ports = [(free_port(), free_port()) for _ in range(3)]
    url = redis_server.url
    chats = [start_chat("--redis", url, "--http-port", str(h), "--line-port", str(l)) for h, l in ports]
    line = chats[2].client("liner", "lobby")
    ann, bob = browser(), browser()
    try:
        open_page(ann, chats[0], "ann")
        open_page(bob, chats[1], "bob")
        wait_for(ann, lambda d: "bob" in [li.text for li in d.find_elements(By.CSS_SELECTOR, "#who li")])
        say(ann, "<script>window.pwned = 1</script><b>bold?</b>")
        wait_for(bob, lambda d: any("<script>window.pwned = 1</script><b>bold?</b>" in t for t in log_lines(d)))
        assert bob.execute_script("return window.pwned") is None
        assert bob.find_elements(By.CSS_SELECTOR, "#log b") == []
        say(bob, "hi ann, from the other instance")
        wait_for(ann, lambda d: any("bob: hi ann, from the other instance" in t for t in log_lines(d)))
        assert line.expect("[lobby] ann:") == "[lobby] ann: <script>window.pwned = 1</script><b>bold?</b>"
        assert line.expect("[lobby] bob:") == "[lobby] bob: hi ann, from the other instance"

        # Restart bob's instance: its page shows "reconnecting", then comes back by itself.
        assert chats[1].stop() == 0
        wait_for(bob, lambda d: status(d).startswith("reconnecting"))
        chats[1] = start_chat("--redis", url, "--http-port", str(ports[1][0]), "--line-port", str(ports[1][1]))
        wait_for(bob, lambda d: status(d) == "online", timeout=30)
        wait_for(bob, lambda d: any("hi ann, from the other instance" in t for t in log_lines(d)))
        say(bob, "back again")
        wait_for(ann, lambda d: any("bob: back again" in t for t in log_lines(d)))
        line.expect("[lobby] bob: back again")
        if SCREENSHOT:
            Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
            ann.save_screenshot(SCREENSHOT)
    finally:
        ann.quit()
        bob.quit()
