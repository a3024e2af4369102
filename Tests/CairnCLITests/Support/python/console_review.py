"""A merge request reviewed in the console, in headless Chromium (selenium): a viewer is shown no
review controls (and the API refuses her); the reviewer sees the change on the map and in the
table; a commit arriving on the source while the page is open is announced on the page and the
approval of the old head is refused; after a reload the reviewer approves and merges.

stdin:  {"url", "org", "project", "number": the request, "source": its branch, "reviewer": key,
         "viewer": key, "author": key (writes on the source), "path": a file to change on the source,
         "shots": folder}
stdout: {"viewerControls": bool, "viewerRefused": status, "drawn": geometries on the map,
         "rows": changed values listed, "staleSeconds": commit to banner, "staleOutcome": text,
         "approved": text, "merged": text, "state": the request's state after, "axe": [...], "shots": {...}}
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

q = json.load(sys.stdin)
base, org, project, number = q["url"], q["org"], q["project"], q["number"]
api = f"{base}/v1/orgs/{org}/projects/{project}"
out = {"shots": {}}

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
page = f"{base}/console/#/p/{project}/mr/{number}"


def sign_in(key):
    driver.get(base + "/console/")
    # Either the sign-in form, or someone is signed in already (then sign out first).
    wait.until(lambda d: d.find_elements(By.ID, "org") or d.find_element(By.ID, "signout").is_displayed())
    if not driver.find_elements(By.ID, "org"):
        driver.find_element(By.ID, "signout").click()
    wait.until(EC.element_to_be_clickable((By.ID, "org")))
    driver.find_element(By.ID, "org").clear()
    driver.find_element(By.ID, "org").send_keys(org)
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "projects")))


def text(element_id):
    return driver.find_element(By.ID, element_id).text


try:
    sign_in(q["viewer"])
    driver.get(page)
    wait.until(EC.presence_of_element_located((By.ID, "changes")))
    wait.until(lambda d: d.find_elements(By.ID, "no-approve") or d.find_elements(By.ID, "verdict-approve"))
    out["viewerControls"] = bool(driver.find_elements(By.ID, "verdict-approve"))
    refused = requests.post(f"{api}/merge-requests/{number}/reviews", headers={"Authorization": "Bearer " + q["viewer"]},
                            json={"verdict": "approve", "rationale": "looks fine"}, timeout=30)
    out["viewerRefused"] = refused.status_code

    sign_in(q["reviewer"])
    driver.get(page)
    wait.until(EC.presence_of_element_located((By.ID, "verdict-approve")))
    out["drawn"] = int(driver.find_element(By.ID, "map").get_attribute("data-drawn") or "0")
    out["rows"] = len(driver.find_elements(By.CSS_SELECTOR, "#changes tbody tr"))
    out["verdict"] = text("verdict")
    path = os.path.join(q["shots"], "merge-request.png")
    driver.save_screenshot(path)
    out["shots"]["merge-request"] = os.path.getsize(path)
    from axe_selenium_python import Axe
    checker = Axe(driver)
    checker.inject()
    out["axe"] = sorted({v["id"] for v in checker.run()["violations"] if v.get("impact") in ("serious", "critical")})

    # Another commit on the source while the page is open.
    started = time.monotonic()
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.951, 60.171]}, "properties": {"capacity": 12}}
    moved = requests.put(f"{api}/files/{q['path']}", headers={"Authorization": "Bearer " + q["author"]},
                         json={"content": json.dumps(feature), "branch": q["source"], "message": "one more change"}, timeout=30)
    moved.raise_for_status()
    wait.until(lambda d: d.find_element(By.ID, "stale").is_displayed())
    out["staleSeconds"] = time.monotonic() - started
    driver.find_element(By.ID, "rationale").send_keys("checked on the map")
    driver.find_element(By.ID, "verdict-approve").click()
    wait.until(lambda d: text("review-outcome") != "")
    out["staleOutcome"] = text("review-outcome")

    driver.refresh()
    wait.until(EC.presence_of_element_located((By.ID, "verdict-approve")))
    driver.find_element(By.ID, "rationale").send_keys("checked the new head on the map")
    driver.find_element(By.ID, "verdict-approve").click()
    wait.until(lambda d: text("review-outcome") != "")
    out["approved"] = text("review-outcome")
    driver.find_element(By.ID, "merge").click()
    wait.until(lambda d: text("review-outcome").startswith(("Merged", "Not merged")))
    out["merged"] = text("review-outcome")
    # The merged value leads back to the request and its review.
    driver.get(f"{base}/console/#/p/{project}/f/fiber/cabinets/1.json")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'button[data-lineage="capacity"]'))).click()
    wait.until(lambda d: d.find_elements(By.ID, "lineage-approval"))
    out["lineage"] = text("lineage")
    out["backlinks"] = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#backlinks a")]
    driver.find_element(By.CSS_SELECTOR, '#backlinks a').click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "a[data-link]")))
    out["dropLinks"] = [a.get_attribute("data-link") for a in driver.find_elements(By.CSS_SELECTOR, "a[data-link]")]
except Exception:
    sys.stderr.write("page at failure: " + driver.current_url + "\n" + driver.find_element(By.TAG_NAME, "body").text[:2000] + "\n")
    raise
finally:
    driver.quit()

view = requests.get(f"{api}/merge-requests/{number}", headers={"Authorization": "Bearer " + q["reviewer"]}, timeout=30).json()
out["state"] = view["request"]["state"]
print(json.dumps(out))
