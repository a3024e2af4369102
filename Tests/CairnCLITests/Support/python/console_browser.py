"""Drives the web console in a real browser (Debian's chromium and chromium-driver, headless,
through selenium from PyPI) against a live `cairn serve`, as a person would: signs in with an
API key, counts the features drawn on the map, narrows the table and the map with the filter,
watches a commit made by someone else appear without a reload, edits a feature (a refused edit
shows the violation at its field; a valid one commits with its reason), and checks the pages with
axe-core (PyPI axe-selenium-python). Screenshots go to `shots`.

stdin:  {"url": server base, "org": "default", "key": an admin key, "project": name,
         "feature": a cabinet's path, "field": a property the ontology bounds, "bad": a value it refuses,
         "good": a value it accepts, "shots": a folder}
stdout: {"drawn": features on the map, "rows": table rows, "filtered": {"drawn", "rows"},
         "liveSeconds": commit to redraw, "violationShown": text at the field, "badStored": bool,
         "savedMessage": the commit message of the valid edit, "csrf": {"without": status, "with": status},
         "axe": {page: [serious or critical rule ids]}, "shots": {name: bytes}}
"""
import json, os, sys, time

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

query = json.load(sys.stdin)
base, org, key, project = query["url"], query["org"], query["key"], query["project"]
api = f"{base}/v1/orgs/{org}/projects/{project}"
auth = {"Authorization": "Bearer " + key}
out = {"axe": {}, "shots": {}}

options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
# axe-core's run and the page's scripts get the time a loaded CI machine needs.
driver.set_script_timeout(300)
# The console re-renders rows and panels as commits arrive: an element found a moment ago may be
# replaced before it is read, so a wait tries again instead of failing on a stale reference.
wait = WebDriverWait(driver, 120, ignored_exceptions=(StaleElementReferenceException,))


def text_once(by, selector, expected):
    """The element's text once it holds `expected`, read in the same step that checks it (the row
    may be drawn again between a check and a later read)."""
    def read(d):
        text = d.find_element(by, selector).text
        return text if expected in text else False
    return wait.until(read)


def axe(name):
    from axe_selenium_python import Axe
    checker = Axe(driver)
    checker.inject()
    results = checker.run()
    out["axe"][name] = sorted({v["id"] for v in results["violations"] if v.get("impact") in ("serious", "critical")})


def shot(name):
    path = os.path.join(query["shots"], name + ".png")
    driver.save_screenshot(path)
    out["shots"][name] = os.path.getsize(path)


def drawn():
    return int(driver.find_element(By.ID, "map").get_attribute("data-drawn") or "0")


try:
    driver.get(base + "/")
    wait.until(EC.presence_of_element_located((By.ID, "signin")))
    axe("signin")
    driver.find_element(By.ID, "org").clear()
    driver.find_element(By.ID, "org").send_keys(org)
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "projects")))
    driver.find_element(By.LINK_TEXT, project).click()
    wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-drawn") not in (None, "", "0"))
    out["drawn"] = drawn()
    out["rows"] = int(driver.find_element(By.ID, "table").get_attribute("data-rows"))
    shot("map")
    axe("map")
    # Sort by the feature's path, descending (a second click), then the cabinet type's columns.
    for _ in range(2):
        driver.find_element(By.CSS_SELECTOR, 'button[data-sort="#id"]').click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#table th[aria-sort=descending]"))
    out["sortedFirst"] = driver.find_element(By.CSS_SELECTOR, "#table tbody tr").get_attribute("data-id")
    driver.find_element(By.CSS_SELECTOR, "#collection option[value=cabinet]").click()
    # Read in the wait: the table is drawn again as commits arrive, and a header read a moment
    # after the check may be gone.
    headers = lambda d: [th.text for th in d.find_elements(By.CSS_SELECTOR, "#table thead th")]
    out["cabinetHeaders"] = wait.until(lambda d: (lambda h: h if "capacity" in " ".join(h) else False)(headers(d)))
    driver.find_element(By.CSS_SELECTOR, "#collection option[value=osm]").click()

    # The filter narrows table and map together.
    box = driver.find_element(By.ID, "filter")
    box.send_keys(query["filter"])
    wait.until(lambda d: drawn() < out["drawn"])
    out["filtered"] = {"drawn": drawn(), "rows": int(driver.find_element(By.ID, "table").get_attribute("data-rows"))}
    box.clear()
    box.send_keys(" ")
    box.clear()
    driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
    wait.until(lambda d: drawn() == out["drawn"])

    # Someone else commits: the open map redraws without a reload.
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.95, 60.17]}, "properties": {"name": "live"}}
    started = time.monotonic()
    answer = requests.put(f"{api}/files/{query['livePath']}", headers=auth, json={"content": json.dumps(point), "message": "live"}, timeout=30)
    answer.raise_for_status()
    wait.until(lambda d: drawn() == out["drawn"] + 1)
    out["liveSeconds"] = time.monotonic() - started

    # A feature's page: a refused edit, then a valid one.
    path = query["feature"]
    before = requests.get(f"{api}/files/{path}?raw=true", headers=auth, timeout=30).text
    driver.get(f"{base}/console/#/p/{project}/f/{path}")
    field = wait.until(EC.presence_of_element_located((By.NAME, query["field"])))
    axe("feature")
    field.clear()
    field.send_keys(query["bad"])
    driver.find_element(By.ID, "reason").send_keys("a bad value")
    driver.find_element(By.CSS_SELECTOR, "#edit button[type=submit]").click()
    error_id = field.get_attribute("aria-describedby")
    wait.until(lambda d: d.find_element(By.ID, error_id).text.strip() != "")
    out["violationShown"] = driver.find_element(By.ID, error_id).text
    out["badStored"] = requests.get(f"{api}/files/{path}?raw=true", headers=auth, timeout=30).text != before
    field.clear()
    field.send_keys(query["good"])
    reason = driver.find_element(By.ID, "reason")
    reason.clear()
    reason.send_keys("surveyed again")
    driver.find_element(By.CSS_SELECTOR, "#edit button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "outcome").text.startswith("Saved"))
    log = requests.get(f"{api}/commits", params={"path": path, "limit": 1}, headers=auth, timeout=30).json()
    out["savedMessage"] = log["commits"][0]["commit"]["message"]
    out["savedAuthor"] = log["commits"][0]["commit"]["author"]
    shot("feature")
    # Where the value came from: the commit (and its reason) that set it.
    driver.find_element(By.CSS_SELECTOR, f'button[data-lineage="{query["field"]}"]').click()
    out["lineage"] = text_once(By.ID, "lineage", "surveyed again")
    # Blame per property: after a reload, the value names the commit that set it.
    driver.refresh()
    blamed = (By.CSS_SELECTOR, f'[data-blame="{query["field"]}"]')
    out["blame"] = text_once(*blamed, "surveyed again")

    # History: the branch's timeline, newest first; the newest commit's page with its change;
    # the branches.
    driver.get(f"{base}/console/#/p/{project}/history")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#timeline tbody tr"))
    newest = driver.find_element(By.CSS_SELECTOR, "#timeline tbody tr")
    out["timelineFirst"] = newest.text
    axe("history")
    newest.find_element(By.CSS_SELECTOR, "a[href*='/c/']").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#changes tbody tr"))
    out["commitMeta"] = driver.find_element(By.ID, "commit-meta").text
    out["commitChanges"] = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr")]
    out["commitDrawn"] = int(driver.find_element(By.ID, "map").get_attribute("data-drawn") or "0")
    axe("commit")
    shot("commit")
    driver.get(f"{base}/console/#/p/{project}/branches")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#branches tbody tr"))
    out["branches"] = [tr.get_attribute("data-branch") for tr in driver.find_elements(By.CSS_SELECTOR, "#branches tbody tr")]
    axe("branches")

    # The time slider: the map as it was before the live commit.
    commits = requests.get(f"{api}/commits", params={"limit": 200}, headers=auth, timeout=30).json()["commits"]
    live_index = next(i for i, c in enumerate(commits) if c["commit"]["message"] == "live")
    position = len(commits) - 1 - (live_index + 1)
    driver.get(f"{base}/console/#/p/{project}")
    wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-drawn") not in (None, "", "0"))
    out["drawnNow"] = drawn()
    driver.execute_script("const s = document.getElementById('time'); s.value = arguments[0]; s.dispatchEvent(new Event('change'))", position)
    wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-ref") not in (None, ""))
    wait.until(lambda d: drawn() == out["drawn"])
    out["drawnBefore"] = drawn()
    driver.find_element(By.CSS_SELECTOR, "#collection option[value=cabinet]").click()
    edits = lambda d: [b.is_enabled() for b in d.find_elements(By.CSS_SELECTOR, "#table button[data-edit]")]
    out["pastEditDisabled"] = not any(wait.until(lambda d: edits(d) or False))
    out["asOf"] = driver.find_element(By.ID, "when").text
    # Any instant, not only a commit: back to now, then a millisecond before the live commit.
    driver.execute_script("const s = document.getElementById('time'); s.value = s.max; s.dispatchEvent(new Event('change'))")
    wait.until(lambda d: drawn() == out["drawn"] + 1)
    driver.execute_script(
        "const d = new Date(Date.parse(arguments[0]) - 1); const pad = (n, w = 2) => String(n).padStart(w, '0');"
        "const i = document.getElementById('instant');"
        "i.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;"
        "i.dispatchEvent(new Event('change'))", commits[live_index]["commit"]["time"])
    wait.until(lambda d: (d.find_element(By.ID, "map").get_attribute("data-ref") or "").startswith("main@"))
    wait.until(lambda d: drawn() == out["drawn"])
    out["drawnAtInstant"] = drawn()

    # Editing from the table: the cabinet's row in place; a refused value is shown at its field
    # and nothing is written, a valid one is saved with its reason and the row shows it.
    # (Away and back: the same address again would keep the page as of the slider's commit.)
    driver.get(f"{base}/console/#/")
    wait.until(EC.presence_of_element_located((By.ID, "projects")))
    driver.get(f"{base}/console/#/p/{project}")
    wait.until(lambda d: drawn() > 0)
    driver.find_element(By.CSS_SELECTOR, "#collection option[value=cabinet]").click()
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f'button[data-edit="{path}"]'))).click()
    stored = requests.get(f"{api}/files/{path}?raw=true", headers=auth, timeout=30).text
    cell = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#table tr.editing input[name="{query["field"]}"]')))
    cell.clear()
    cell.send_keys(query["bad"])
    driver.find_element(By.ID, "row-reason").send_keys("from the table")
    axe("table-edit")
    driver.find_element(By.CSS_SELECTOR, "#row-edit button[type=submit]").click()
    errors = lambda d: " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, "#table tr.editing .field-error")).strip()
    wait.until(lambda d: errors(d) != "")
    out["tableViolation"] = errors(driver)
    out["tableBadStored"] = requests.get(f"{api}/files/{path}?raw=true", headers=auth, timeout=30).text != stored
    cell.clear()
    cell.send_keys(query["tableGood"])
    driver.find_element(By.CSS_SELECTOR, "#row-edit button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "table-outcome").text.startswith("Saved"))
    out["tableRow"] = text_once(By.CSS_SELECTOR, f'#table tr[data-id="{path}"]', query["tableGood"])
    out["tableMessage"] = requests.get(f"{api}/commits", params={"path": path, "limit": 1}, headers=auth, timeout=30).json()["commits"][0]["commit"]["message"]

    # A phone-sized screen: the map and the table stack in one column, and still pass axe.
    driver.set_window_size(390, 844)
    driver.get(f"{base}/console/#/p/{project}")
    wait.until(lambda d: drawn() > 0)
    m = driver.find_element(By.ID, "map").rect
    t = driver.find_element(By.ID, "table").rect
    out["phone"] = {"mapWidth": m["width"], "stacked": t["y"] >= m["y"] + m["height"] - 1, "viewport": driver.execute_script("return window.innerWidth")}
    axe("phone")
finally:
    driver.quit()

# CSRF: the cookie alone changes nothing; with the session's token it does.
s = requests.Session()
signed = s.post(f"{base}/console/session", json={"organization": org, "key": key}, timeout=30)
signed.raise_for_status()
csrf = signed.json()["csrf"]
body = {"content": json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.9, 60.1]}, "properties": {}})}
without = s.put(f"{api}/files/csrf/a.json", json=body, timeout=30)
with_token = s.put(f"{api}/files/csrf/a.json", json=body, headers={"X-CSRF-Token": csrf}, timeout=30)
out["csrf"] = {"without": without.status_code, "withoutCode": (without.json().get("error") or {}).get("code"), "with": with_token.status_code}
out["cookie"] = signed.headers.get("Set-Cookie", "")
print(json.dumps(out))
