"""Opens a project too large to send to the browser whole in the web console (headless chromium
through selenium), as a person would: the map first shows the server's counts per cell of a grid
(its spatial index answers them; no feature travels), and clicking a cell zooms in on it until the
features in view are drawn.

stdin:  {"url": server base, "org": "default", "key": an admin key, "project": name, "shots": a folder}
stdout: {"first": {"cells", "drawn", "counted"}, "clicks": cells clicked, "zoomed": {"cells", "drawn"},
         "inViewRequests": [URLs of items requests the page made], "axe": [serious or critical rule ids],
         "shot": bytes of the screenshot}
"""
import json, os, sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

query = json.load(sys.stdin)
base, org, key, project = query["url"], query["org"], query["key"], query["project"]
out = {}

options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_script_timeout(300)
# The console re-renders rows and panels as commits arrive: an element found a moment ago may be
# replaced before it is read, so a wait tries again instead of failing on a stale reference.
wait = WebDriverWait(driver, 120, ignored_exceptions=(StaleElementReferenceException,))


def map_state():
    node = driver.find_element(By.ID, "map")
    return {"cells": int(node.get_attribute("data-cells") or "0"), "drawn": int(node.get_attribute("data-drawn") or "0")}


def requested():
    """The URLs of the feature requests the page made (from Chromium's network log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if "/ogc/collections/" in url and ("/items" in url or "/cells" in url):
                urls.append(url)
    return urls


try:
    driver.get(base + "/")
    wait.until(EC.presence_of_element_located((By.ID, "signin")))
    driver.find_element(By.ID, "org").clear()
    driver.find_element(By.ID, "org").send_keys(org)
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "projects")))
    driver.find_element(By.LINK_TEXT, project).click()
    wait.until(lambda d: map_state()["cells"] > 0 or map_state()["drawn"] > 0)
    first = map_state()
    first["counted"] = sum(int(e.text) for e in driver.find_elements(By.CSS_SELECTOR, "#map .cell span"))
    first["legend"] = driver.find_element(By.CSS_SELECTOR, ".legend .muted").text
    first["table"] = driver.find_element(By.ID, "count").text
    out["first"] = first
    out["firstRequests"] = requested()
    from axe_selenium_python import Axe
    checker = Axe(driver)
    checker.inject()
    out["axe"] = sorted({v["id"] for v in checker.run()["violations"] if v.get("impact") in ("serious", "critical")})
    # Click the fullest cell until the features in view are drawn (each click zooms in two levels).
    clicks = 0
    while map_state()["cells"] > 0 and clicks < 6:
        loads = driver.find_element(By.ID, "map").get_attribute("data-loads")
        cells = driver.find_elements(By.CSS_SELECTOR, "#map .cell")
        fullest = max(cells, key=lambda e: int(e.text or "0"))
        driver.execute_script("arguments[0].click()", fullest)
        clicks += 1
        wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-loads") != loads)
    out["clicks"] = clicks
    out["zoomed"] = map_state()
    out["zoomed"]["rows"] = int(driver.find_element(By.ID, "table").get_attribute("data-rows"))
    path = os.path.join(query["shots"], "cells.png")
    driver.save_screenshot(path)
    out["shot"] = os.path.getsize(path)
    out["inViewRequests"] = [u for u in requested() if "/items" in u]
finally:
    driver.quit()
print(json.dumps(out))
