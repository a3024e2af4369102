"""The console's governance pages in headless Chromium (selenium): the approval queue shows a
request's exact change as readable JSON and takes a decision; an agent run's page lists each call
with its arguments, decision and commits, and replays it; the audit page lists and filters.

stdin:  {"url", "org", "project", "key": an admin key, "shots": folder}
stdout: {"change": the change's text, "decided": text, "calls": [tool, ...], "replay": text,
         "audit": rows, "auditFiltered": rows, "axe": {page: [rule ids]}, "shots": {name: bytes}}
"""
import json, os, subprocess, sys, time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

q = json.load(sys.stdin)
base, org, project = q["url"], q["org"], q["project"]
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


def axe(name):
    from axe_selenium_python import Axe
    checker = Axe(driver)
    checker.inject()
    out["axe"][name] = sorted({v["id"] for v in checker.run()["violations"] if v.get("impact") in ("serious", "critical")})


try:
    driver.get(base + "/console/")
    wait.until(EC.presence_of_element_located((By.ID, "signin")))
    driver.find_element(By.ID, "key").send_keys(q["key"])
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "projects")))

    # An agent edits a feature while the inbox is open: protected main turns its run into a merge
    # request, which appears without a reload; its page shows the run's calls with their reasons.
    driver.get(f"{base}/console/#/p/{project}/mr")
    wait.until(EC.presence_of_element_located((By.ID, "inbox-empty")))
    session = {"http": {"url": f"{base}/v1/mcp?project={project}", "token": q["agent"]}, "calls": q["agentCalls"]}
    done = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "mcp_session.py")], input=json.dumps(session),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit("the agent's session failed: " + done.stderr[-2000:])
    out["agentResults"] = json.loads(done.stdout).get("results", [])
    started = time.monotonic()  # the run's merge request is opened as its session ends
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#inbox li a")))
    out["inboxSeconds"] = time.monotonic() - started
    driver.find_element(By.CSS_SELECTOR, "#inbox li a").click()
    wait.until(EC.presence_of_element_located((By.ID, "run-calls")))
    out["runCalls"] = driver.find_element(By.ID, "run-calls").text
    out["mrDrawn"] = int(driver.find_element(By.ID, "map").get_attribute("data-drawn") or "0")

    driver.get(base + "/console/#/approvals")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#approvals li")))
    out["change"] = driver.find_element(By.CSS_SELECTOR, "#approvals pre.change").text
    axe("approvals")
    driver.find_element(By.CSS_SELECTOR, "#approvals .rationale").send_keys("the model is right")
    driver.find_element(By.CSS_SELECTOR, 'button[data-decide="approve"]').click()
    status = lambda d: d.find_element(By.CSS_SELECTOR, "#approvals li span[role=status]").text
    out["decided"] = wait.until(lambda d: (lambda t: t if "approve" in t else False)(status(d)))

    driver.get(f"{base}/console/#/p/{project}/runs")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#runs li a"))).click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#calls tbody tr")))
    out["calls"] = [row.find_elements(By.TAG_NAME, "td")[1].text for row in driver.find_elements(By.CSS_SELECTOR, "#calls tbody tr")]
    path = os.path.join(q["shots"], "run.png")
    driver.save_screenshot(path)
    out["shots"]["run"] = os.path.getsize(path)
    axe("run")
    driver.find_element(By.CSS_SELECTOR, 'button[data-run-action="replay"]').click()
    wait.until(lambda d: d.find_element(By.ID, "run-report").text.strip() != "")
    out["replay"] = driver.find_element(By.ID, "run-report").text[:2000]

    # A workflow run beside the agent sessions: started through the API, listed on the runs page,
    # its page showing each step's outcome and the engine run behind it.
    import requests
    api = f"{base}/v1/orgs/{org}/projects/{project}"
    auth = {"Authorization": "Bearer " + q["key"]}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [24.95, 60.18]}, "properties": {"capacity": 5}}
    definition = {"scope": {"role": "designer", "path": "sites/**"}, "triggers": [{"kind": "manual"}],
                  "steps": [{"id": "look", "kind": "Read", "arguments": {"path": "sites/a.json"}},
                            {"id": "add", "kind": "Write", "arguments": {"path": "sites/b.json", "content": json.dumps(feature)}}]}
    requests.put(f"{api}/workflows/survey", headers=auth, json={"definition": definition, "message": "a survey"}, timeout=30).raise_for_status()
    requests.post(f"{api}/workflows/survey/enable", headers=auth, json={"message": "go"}, timeout=30).raise_for_status()
    started = requests.post(f"{api}/workflows/survey/runs", headers=auth, json={"inputs": {}}, timeout=30)
    started.raise_for_status()
    run_id = started.json()["id"]
    for _ in range(600):
        if requests.get(f"{api}/workflows/survey/runs/{run_id}", headers=auth, timeout=30).json().get("finished"):
            break
        time.sleep(0.1)
    driver.get(f"{base}/console/#/p/{project}/runs")
    link = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#workflow-runs li a")))
    out["workflowListed"] = driver.find_element(By.ID, "workflow-runs").text
    link.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#steps tbody tr")))
    out["workflowSteps"] = [[td.text for td in row.find_elements(By.TAG_NAME, "td")[:3]] for row in driver.find_elements(By.CSS_SELECTOR, "#steps tbody tr")]
    out["workflowStatus"] = driver.find_element(By.ID, "workflow-status").text
    out["workflowEngineRun"] = bool(driver.find_elements(By.ID, "engine-run"))
    axe("workflow-run")

    driver.get(base + "/console/#/audit")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#audit tbody tr")))
    out["audit"] = len(driver.find_elements(By.CSS_SELECTOR, "#audit tbody tr"))
    axe("audit")
    field = driver.find_element(By.CSS_SELECTOR, '#audit-filter input[name="action"]')
    field.send_keys("approval.approve")
    driver.find_element(By.CSS_SELECTOR, "#audit-filter button[type=submit]").click()
    wait.until(lambda d: "action=approval.approve" in d.current_url)
    # The filtered rows, once the table shows them: while the page asks, the table may be empty or
    # still hold the unfiltered rows, so the rows are read in the step that checks them.
    def filtered(d):
        rows = [r.find_elements(By.TAG_NAME, "td")[2].text for r in d.find_elements(By.CSS_SELECTOR, "#audit tbody tr")]
        return rows if rows and len(rows) < out["audit"] else False
    out["auditFiltered"] = wait.until(filtered)

    driver.get(base + "/console/#/access")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#grants tbody tr")))
    out["grants"] = len(driver.find_elements(By.CSS_SELECTOR, "#grants tbody tr"))
    axe("access")
    driver.find_element(By.ID, "ask-project").send_keys(project)
    driver.find_element(By.CSS_SELECTOR, "#ask-authority option[value=configure]").click()
    driver.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "ask-answer").text != "")
    out["ask"] = driver.find_element(By.ID, "ask-answer").text
    subject = driver.find_element(By.ID, "ask-subject")
    subject.clear()
    subject.send_keys("agent:planner")
    driver.find_element(By.CSS_SELECTOR, "#ask button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "ask-answer").text.startswith("no"))
    out["askAgent"] = driver.find_element(By.ID, "ask-answer").text
except Exception:
    sys.stderr.write("page at failure: " + driver.current_url + "\n" + driver.find_element(By.TAG_NAME, "body").text[:2000] + "\n")
    raise
finally:
    driver.quit()
print(json.dumps(out))
