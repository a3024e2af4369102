"""The console benchmark's browser side (headless Chromium through selenium): time from navigation
until the project's map has drawn every feature and its table is filled (`#map[data-drawn]`
equal to the expected count), five times; the same for a plain Leaflet page drawing the same
features from a static GeoJSON file (the floor); then, with the console open, the time from a
commit (an HTTP write) to the new feature on the map, twenty times.

stdin:  {"console": project page URL, "signin": {"url", "org", "key"}, "plain": the plain page's URL,
         "expected": features, "write": {"url": a files URL prefix, "key"}}
stdout: {"console": [seconds...], "plain": [seconds...], "feed": [seconds...]}
"""
import json, sys, time

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

q = json.load(sys.stdin)
options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 120, poll_frequency=0.01)
out = {"console": [], "plain": [], "feed": []}


def drawn():
    try:
        return int(driver.find_element(By.ID, "map").get_attribute("data-drawn") or "0")
    except Exception:
        return 0


def timed_load(url, expected):
    driver.get("about:blank")
    started = time.monotonic()
    driver.get(url)
    wait.until(lambda d: drawn() >= expected)
    return time.monotonic() - started


try:
    s = q["signin"]
    driver.get(s["url"] + "/console/")
    wait.until(lambda d: d.find_elements(By.ID, "signin"))
    driver.find_element(By.ID, "org").clear()
    driver.find_element(By.ID, "org").send_keys(s["org"])
    driver.find_element(By.ID, "key").send_keys(s["key"])
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    wait.until(lambda d: d.find_elements(By.ID, "projects"))
    for i in range(6):
        seconds = timed_load(q["console"], q["expected"])
        if i > 0:
            out["console"].append(seconds)
    for i in range(6):
        seconds = timed_load(q["plain"], q["expected"])
        if i > 0:
            out["plain"].append(seconds)
    driver.get(q["console"])
    wait.until(lambda d: drawn() >= q["expected"])
    w = q["write"]
    for i in range(20):
        before = drawn()
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.94 + i * 0.0001, 60.17]}, "properties": {"n": i}}
        started = time.monotonic()
        requests.put(f"{w['url']}/osm/feed-{i}.json", headers={"Authorization": "Bearer " + w["key"]},
                     json={"content": json.dumps(feature), "message": "feed"}, timeout=30).raise_for_status()
        wait.until(lambda d: drawn() > before)
        out["feed"].append(time.monotonic() - started)
finally:
    driver.quit()
print(json.dumps(out))
