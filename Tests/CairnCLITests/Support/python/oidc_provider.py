"""A test identity provider, independent of Cairn: keys from `cryptography`, tokens from `pyjwt`.

Serves on loopback:
  /.well-known/openid-configuration   discovery (issuer, jwks_uri)
  /jwks.json                          the current public keys (counts fetches)
  /token?case=NAME&sub=..&groups=a,b  a token for one test case
  /rotate                             replace the RSA key by a new one with a new kid
  /stats                              {"jwks_fetches": n}
  /sign?header=B64URL&payload=B64URL  the exact header and payload texts, signed with the RSA key
  /mode?jwks=ok|404|weak               the key set: normal, answering 404, or with an unusable key added
  /authorize                          the authorization endpoint (code flow with PKCE, S256 only): signs
                                      in the user /login named (default alice, group planners) at once
  /login?sub=..&groups=a,b            who /authorize signs in next
  /oauth/token  (POST)                the token endpoint: a code and its PKCE verifier for an ID token
Prints "port N" once listening.
"""
import base64, hashlib, hmac, http.server, json, signal, sys, threading, time, urllib.parse

# Started by a Swift test process whose threads block SIGTERM: the mask is inherited through
# exec, so unblock it, or only SIGKILL could stop this provider.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

AUD = sys.argv[1] if len(sys.argv) > 1 else "cairn"
state = {"fetches": 0, "rsa_kid": "rsa-1", "jwks": "ok", "login": ("alice", ["planners"]), "codes": {}}
keys = {
    "rsa-1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ec-1": ec.generate_private_key(ec.SECP256R1()),
    "ed-1": ed25519.Ed25519PrivateKey.generate(),
}
stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
lock = threading.Lock()
issuer = None


def jwk(kid, key):
    pub = key.public_key()
    if kid.startswith("rsa"):
        d = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(pub)); d["alg"] = "RS256"
    elif kid.startswith("ec"):
        d = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(pub)); d["alg"] = "ES256"
    else:
        d = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(pub)); d["alg"] = "EdDSA"
    d["kid"] = kid; d["use"] = "sig"
    return d


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(case, sub, groups):
    now = int(time.time())
    claims = {"iss": issuer, "aud": AUD, "sub": sub, "groups": groups, "iat": now, "nbf": now, "exp": now + 300}
    with lock:
        rsa_kid = state["rsa_kid"]
        rsa_key = keys[rsa_kid]
    if case == "good":
        return jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": rsa_kid})
    if case == "good-es256":
        return jwt.encode(claims, keys["ec-1"], algorithm="ES256", headers={"kid": "ec-1"})
    if case == "good-eddsa":
        return jwt.encode(claims, keys["ed-1"], algorithm="EdDSA", headers={"kid": "ed-1"})
    if case == "wrong-signature":
        return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": rsa_kid})
    if case == "alg-none":
        return b64(json.dumps({"alg": "none", "typ": "JWT", "kid": rsa_kid}).encode()) + "." + b64(json.dumps(claims).encode()) + "."
    if case == "hs256-public-key":
        # The classic confusion attack: HMAC keyed with the published RSA public key.
        pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        signing = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": rsa_kid}).encode()) + "." + b64(json.dumps(claims).encode())
        return signing + "." + b64(hmac.new(pem, signing.encode(), hashlib.sha256).digest())
    if case == "expired":
        claims.update(exp=now - 3600, iat=now - 7200, nbf=now - 7200)
        return jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": rsa_kid})
    if case == "not-yet-valid":
        claims.update(nbf=now + 3600)
        return jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": rsa_kid})
    if case == "wrong-audience":
        claims.update(aud="someone-else")
        return jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": rsa_kid})
    if case == "wrong-issuer":
        claims.update(iss="http://evil.example")
        return jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": rsa_kid})
    if case == "unknown-kid":
        return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "nobody-knows"})
    raise ValueError(case)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/.well-known/openid-configuration":
            return self.send(200, json.dumps({"issuer": issuer, "jwks_uri": issuer + "/jwks.json",
                                              "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/oauth/token",
                                              "code_challenge_methods_supported": ["S256"]}))
        if url.path == "/login":
            with lock:
                state["login"] = (q.get("sub", "alice"), [g for g in q.get("groups", "").split(",") if g])
            return self.send(200, "{}")
        if url.path == "/authorize":
            if q.get("response_type") != "code" or q.get("client_id") != AUD or q.get("code_challenge_method") != "S256" \
                    or not q.get("code_challenge") or not q.get("redirect_uri") or not q.get("state"):
                return self.send(400, json.dumps({"error": "invalid_request"}))
            code = b64(hashlib.sha256(str(time.time_ns()).encode()).digest())
            with lock:
                state["codes"][code] = {"challenge": q["code_challenge"], "redirect": q["redirect_uri"], "login": state["login"]}
            target = q["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": q["state"]})
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return
        if url.path == "/jwks.json":
            with lock:
                state["fetches"] += 1
                mode = state["jwks"]
                doc = {"keys": [jwk(k, v) for k, v in keys.items()]}
            if mode == "404":
                return self.send(404, "{}")
            if mode == "weak":
                # A 512-bit RSA key (too weak for any verifier to load) beside the good ones.
                doc["keys"].insert(0, {"kty": "RSA", "kid": "weak-1", "alg": "RS256", "use": "sig", "e": "AQAB",
                                       "n": b64(b"\xc3" + bytes(range(1, 63)) + b"\x01")})
            return self.send(200, json.dumps(doc))
        if url.path == "/mode":
            with lock:
                state["jwks"] = q.get("jwks", "ok")
            return self.send(200, "{}")
        if url.path == "/sign":
            pad = lambda t: t + "=" * (-len(t) % 4)
            header = base64.urlsafe_b64decode(pad(q["header"]))
            payload = base64.urlsafe_b64decode(pad(q["payload"]))
            signing = b64(header) + "." + b64(payload)
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import padding
            with lock:
                key = keys[state["rsa_kid"]]
            sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
            return self.send(200, signing + "." + b64(sig), "text/plain")
        if url.path == "/token":
            groups = [g for g in q.get("groups", "").split(",") if g]
            return self.send(200, token(q["case"], q.get("sub", "alice"), groups), "text/plain")
        if url.path == "/rotate":
            with lock:
                old = state["rsa_kid"]
                new = "rsa-%d" % (int(old.split("-")[1]) + 1)
                del keys[old]
                keys[new] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                state["rsa_kid"] = new
            return self.send(200, json.dumps({"kid": new}))
        if url.path == "/stats":
            return self.send(200, json.dumps({"jwks_fetches": state["fetches"]}))
        self.send(404, "{}")

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/oauth/token":
            return self.send(404, "{}")
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        with lock:
            grant = state["codes"].pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        if grant is None or form.get("grant_type") != "authorization_code" or form.get("client_id") != AUD \
                or form.get("redirect_uri") != grant["redirect"] \
                or b64(hashlib.sha256(verifier.encode()).digest()) != grant["challenge"]:
            return self.send(400, json.dumps({"error": "invalid_grant"}))
        sub, groups = grant["login"]
        return self.send(200, json.dumps({"id_token": token("good", sub, groups), "token_type": "Bearer", "expires_in": 300}))


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
issuer = "http://127.0.0.1:%d" % server.server_address[1]
print("port %d" % server.server_address[1], flush=True)
server.serve_forever()
