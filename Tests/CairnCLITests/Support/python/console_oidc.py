"""Sign-in to the console through an identity provider (authorization code with PKCE), in headless
Chromium: the console's link goes to the provider, which sends the browser back with a code; the
server exchanges it (with its PKCE verifier) for an ID token and signs the person in. Then, with
plain HTTP: a callback's state works once only, and a made-up state signs nobody in.

stdin:  {"url": server base, "org": name}
stdout: {"who": the signed-in line, "projects": bool, "replayed": status, "forged": status, "cookie": bool}
"""
import json, sys

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

q = json.load(sys.stdin)
base, org = q["url"], q["org"]
out = {}
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
try:
    driver.get(base + "/console/")
    wait.until(EC.presence_of_element_located((By.ID, "oidc"))).click()
    wait.until(EC.presence_of_element_located((By.ID, "projects")))
    out["projects"] = True
    out["who"] = driver.find_element(By.ID, "who").text
    driver.get(base + "/console/#/p/city")
    wait.until(EC.presence_of_element_located((By.ID, "map")))
    point = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.95, 60.17]}, "properties": {}}
    requests.put(f"{base}/v1/orgs/{org}/projects/city/files/sites/new.json", headers={"Authorization": "Bearer " + q["key"]},
                 json={"content": json.dumps(point)}, timeout=30).raise_for_status()
    wait.until(lambda d: d.find_element(By.ID, "map").get_attribute("data-drawn") == "1")
    out["drawn"] = 1
    out["newLayer"] = bool(driver.find_elements(By.ID, "layer-sites"))
    # main protected for people too: an edit from the console becomes a merge request, said plainly.
    protection = {"branches": {"main": {"agentWrites": "merge_request", "userWrites": "merge_request", "requiredApprovals": 1}}}
    requests.put(f"{base}/v1/orgs/{org}/projects/city/files/.cairn/protection.json", headers={"Authorization": "Bearer " + q["key"]},
                 json={"content": json.dumps(protection)}, timeout=30).raise_for_status()
    driver.get(base + "/console/#/p/city/f/sites/new.json")
    wait.until(EC.presence_of_element_located((By.ID, "lon"))).clear()
    driver.find_element(By.ID, "lon").send_keys("24.96")
    driver.find_element(By.ID, "reason").send_keys("move it east")
    driver.find_element(By.CSS_SELECTOR, "#edit button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "outcome").text != "")
    out["protected"] = driver.find_element(By.ID, "outcome").text
except Exception:
    sys.stderr.write("page at failure: " + driver.current_url + "\n" + driver.find_element(By.TAG_NAME, "body").text[:2000] + "\n")
    raise
finally:
    driver.quit()

# The same flow by hand: the provider's redirect back, used twice.
start = requests.get(f"{base}/console/oidc/start", params={"organization": org}, allow_redirects=False, timeout=30)
provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=30)
callback = provider.headers["Location"]
first = requests.get(callback, allow_redirects=False, timeout=30)
out["cookie"] = "cairn_session=" in first.headers.get("Set-Cookie", "") and first.status_code == 303
out["replayed"] = requests.get(callback, allow_redirects=False, timeout=30).status_code
out["forged"] = requests.get(f"{base}/console/oidc/callback", params={"state": "made-up", "code": "x"}, allow_redirects=False, timeout=30).status_code
print(json.dumps(out))
