"""Sends one slow request and, while it runs, measures the latency of a cheap one on two
servers in turn: the one doing the slow work and a peer doing nothing. Measured in a process of
its own, so the figures are the servers' and the machine's, not a busy test runner's.

stdin:  {"slow": {"url": URL, "token": BEARER}, "probe": URL_OF_THE_SAME_SERVER, "peer": URL}
stdout: {"slow": {"status": N, "seconds": S, "body": TEXT},
         "probe": [S, ...] (only those started while the slow request ran), "peer": [S, ...]}
"""
import json, sys, threading, time, urllib.error, urllib.request

q = json.load(sys.stdin)
slow = {}


def send():
    start = time.monotonic()
    request = urllib.request.Request(q["slow"]["url"], headers={"Authorization": "Bearer " + q["slow"]["token"]})
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            slow["status"], body = reply.status, reply.read()
    except urllib.error.HTTPError as e:
        slow["status"], body = e.code, e.read()
    slow["seconds"] = time.monotonic() - start
    slow["body"] = body.decode("utf-8", "replace")[:2000]


def latency(url):
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=120) as reply:
        reply.read()
        if reply.status != 200:
            raise SystemExit(f"{url} answered {reply.status}")
    return time.monotonic() - start


worker = threading.Thread(target=send)
worker.start()
time.sleep(0.2)
probe, peer = [], []
# Alternate, so both servers are measured under the same moment's load; at least five of each.
while worker.is_alive() or len(peer) < 5:
    started_during = worker.is_alive()
    seconds = latency(q["probe"])
    if started_during:
        probe.append(seconds)
    peer.append(latency(q["peer"]))
    time.sleep(0.05)
worker.join()
json.dump({"slow": slow, "probe": probe, "peer": peer}, sys.stdout)
