"""Headless Chromium (Selenium) opens WebSocketEcho's page, types a line, and checks that the
echo appears in the page and that the EventSource clock ticks."""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

port = int(sys.argv[1])
options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.set_page_load_timeout(30)
    driver.get(f"http://127.0.0.1:{port}/")
    wait = WebDriverWait(driver, 20)
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ws") == "open")
    field = driver.find_element(By.ID, "input")
    field.send_keys("héllo from chromium")
    driver.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda d: any(li.text == "héllo from chromium" for li in d.find_elements(By.CSS_SELECTOR, "#log li")))
    wait.until(lambda d: d.find_element(By.ID, "clock").text.isdigit())
    print("BROWSER echoed ticking", flush=True)
finally:
    driver.quit()
