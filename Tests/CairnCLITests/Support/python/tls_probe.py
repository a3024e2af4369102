"""Connects to a Cairn server over TLS with Python's own ssl module (an independent client),
verifying its certificate against the given CA file, and reports what it served.

stdin:  {"port": N, "cafile": PATH}
stdout: {"subject": CN of the served certificate, "status": HTTP status of GET /healthz}
"""
import http.client, json, ssl, sys

q = json.load(sys.stdin)
ctx = ssl.create_default_context(cafile=q["cafile"])
conn = http.client.HTTPSConnection("127.0.0.1", q["port"], context=ctx, timeout=10)
try:
    conn.request("GET", "/healthz")
    status = conn.getresponse().status
    cert = conn.sock.getpeercert()
    cn = dict(x[0] for x in cert["subject"]).get("commonName")
    json.dump({"subject": cn, "status": status}, sys.stdout)
except ssl.SSLError as e:
    # A certificate that no longer matches the CA file: the server still serves the other one.
    json.dump({"subject": None, "status": 0, "error": str(e)}, sys.stdout)
