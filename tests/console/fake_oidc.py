"""A local OpenID Connect provider for the console tests: a real HTTP server on 127.0.0.1.

It speaks discovery, ``/authorize`` (authorization code with PKCE S256), ``/token``, ``/userinfo`` and
``/jwks`` (RS256), and checks each request against the rules a real provider enforces, answering
with the specification's error responses:

* OpenID Connect Core 1.0 §3.1.2.1-§3.1.2.6 (authentication request: ``scope`` contains ``openid``,
  ``response_type=code``, registered ``redirect_uri``; errors go back to the redirect URI with ``state``,
  except an unknown client or redirect URI, which must not redirect);
* RFC 6749 §2.3.1 (client authentication: exactly one method, HTTP Basic or body), §4.1.3 (token
  request: form-encoded POST, ``grant_type``, ``code``, the same ``redirect_uri``), §5.2 (JSON errors:
  ``invalid_request``, ``invalid_client`` with 401, ``invalid_grant``, ``unsupported_grant_type``);
* RFC 7636 §4.3-§4.6 (``code_challenge`` required, method S256, verifier 43-128 unreserved characters,
  ``BASE64URL(SHA256(verifier)) == challenge``);
* RFC 6750 §2.1/§3 (userinfo: ``Authorization: Bearer``; a bad token gets 401 ``invalid_token``).

Every refused request is recorded in :attr:`FakeOidc.violations`, so a test can assert that the client
under test never sent one. ``tamper`` makes the next ID tokens wrong in one way (bad signature, wrong
audience, issuer or nonce, expired) to check the client refuses them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
TAMPERS = (None, "signature", "aud", "iss", "nonce", "expired", "no_email", "unverified")


@dataclass
class Grant:
    """An issued authorization code and what it was issued for."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: list[str]
    expires: float
    used: bool = False


@dataclass
class FakeOidc:
    """The provider's configuration and state (one registered client)."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")
    user: dict[str, Any] = field(default_factory=lambda: {"sub": "U0001", "email": "admin@example.com",
                                                          "email_verified": True, "name": "Ada Admin"})
    tamper: str | None = None
    base_url: str = ""
    violations: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    grants: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # verifiers, access and ID tokens seen (for the leak check)

    def __post_init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1", "use": "sig", "alg": "RS256"},
                                       private=True)
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "fake-1", "use": "sig", "alg": "RS256"},
                                             private=True)
        self.lock = threading.Lock()

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/.well-known/openid-configuration"

    def metadata(self) -> dict[str, Any]:
        b = self.base_url
        return {
            "issuer": b, "authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
            "userinfo_endpoint": b + "/userinfo", "jwks_uri": b + "/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": list(self.auth_methods),
            "grant_types_supported": ["authorization_code"], "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"],
        }

    def refuse(self, rule: str) -> None:
        with self.lock:
            self.violations.append(rule)

    # ----------------------------------------------------------------- tokens
    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.base_url, "sub": self.user["sub"], "aud": grant.client_id,
                                  "iat": now, "exp": now + 300, "auth_time": now}
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if "email" in grant.scope and self.tamper != "no_email":
            claims["email"] = self.user["email"]
            claims["email_verified"] = self.user.get("email_verified", True) and self.tamper != "unverified"
        if "profile" in grant.scope:
            claims["name"] = self.user.get("name", "")
        key = self.key
        if self.tamper == "signature":
            key = self.other_key  # same kid, different key: the signature cannot verify
        elif self.tamper == "aud":
            claims["aud"] = "some-other-client"
        elif self.tamper == "iss":
            claims["iss"] = "https://evil.example.com"
        elif self.tamper == "nonce":
            claims["nonce"] = "not-the-nonce-you-sent"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        return jwt.encode({"alg": "RS256", "kid": "fake-1", "typ": "JWT"}, claims, key)

    def userinfo_claims(self) -> dict[str, Any]:
        return {"sub": self.user["sub"], "email": self.user["email"],
                "email_verified": self.user.get("email_verified", True) and self.tamper != "unverified",
                "name": self.user.get("name", "")}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOidc

    def log_message(self, *args: Any) -> None:
        pass

    # ----------------------------------------------------------------- plumbing
    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json",
                   {"Cache-Control": "no-store", "Pragma": "no-cache", **(headers or {})})

    def _oauth_error(self, status: int, error: str, description: str, headers: dict[str, str] | None = None) -> None:
        self.fake.refuse(f"{self.path.split('?')[0]}: {error}: {description}")
        self._json(status, {"error": error, "error_description": description}, headers)

    def _redirect(self, location: str) -> None:
        self._send(302, b"", "text/plain", {"Location": location})

    # ----------------------------------------------------------------- GET
    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        self.fake.requests.append(f"GET {parts.path}")
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, self.fake.metadata())
        elif parts.path == "/jwks":
            self._json(200, {"keys": [self.fake.key.as_dict(private=False)]})
        elif parts.path == "/authorize":
            self._authorize(parse_qs(parts.query, keep_blank_values=True))
        elif parts.path == "/userinfo":
            self._userinfo()
        else:
            self._send(404, b"not found", "text/plain")

    def _authorize(self, raw: dict[str, list[str]]) -> None:
        fake = self.fake
        if any(len(v) > 1 for v in raw.values()):  # RFC 6749 §3.1: parameters MUST NOT be included more than once
            fake.refuse("/authorize: a parameter was repeated")
            self._send(400, b"invalid_request: repeated parameter", "text/plain")
            return
        q = {k: v[0] for k, v in raw.items()}
        # An unknown client or redirect URI must not be redirected to (OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1).
        if q.get("client_id") != fake.client_id:
            fake.refuse("/authorize: unknown client_id")
            self._send(400, b"invalid_request: unknown client", "text/plain")
            return
        redirect_uri = q.get("redirect_uri")
        if not redirect_uri or redirect_uri not in fake.redirect_uris:
            fake.refuse(f"/authorize: redirect_uri not registered: {redirect_uri}")
            self._send(400, b"invalid_request: redirect_uri not registered", "text/plain")
            return
        state = q.get("state")

        def back(**params: str) -> None:
            if state is not None:
                params["state"] = state
            self._redirect(redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params))

        def error(code: str, description: str) -> None:
            fake.refuse(f"/authorize: {code}: {description}")
            back(error=code, error_description=description)

        scope = q.get("scope", "").split()
        if q.get("response_type") != "code":
            return error("unsupported_response_type", "only response_type=code is supported")
        if "openid" not in scope:
            return error("invalid_scope", "scope must contain openid")
        if not state:
            return error("invalid_request", "state is required by this provider (CSRF protection)")
        if not q.get("nonce"):
            return error("invalid_request", "nonce is required by this provider (replay protection)")
        challenge, method = q.get("code_challenge"), q.get("code_challenge_method")
        if not challenge:
            return error("invalid_request", "code challenge required")
        if method != "S256":
            return error("invalid_request", "transform algorithm not supported (S256 only)")
        if not CHALLENGE.match(challenge):
            return error("invalid_request", "code_challenge is not a base64url SHA-256")
        code = secrets.token_urlsafe(24)
        with fake.lock:
            fake.grants[code] = Grant(fake.client_id, redirect_uri, challenge, q.get("nonce"), scope,
                                      time.time() + 60)
        back(code=code)

    def _userinfo(self) -> None:
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        claims = self.fake.access_tokens.get(token or "")
        if claims is None:
            self.fake.refuse("/userinfo: invalid_token")
            self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        self._json(200, self.fake.userinfo_claims())

    # ----------------------------------------------------------------- POST
    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        self.fake.requests.append(f"POST {parts.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        if parts.path != "/token":
            self._send(404, b"not found", "text/plain")
            return
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return self._oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        raw = parse_qs(body, keep_blank_values=True)
        if any(len(v) > 1 for v in raw.values()):
            return self._oauth_error(400, "invalid_request", "a parameter was repeated")
        form = {k: v[0] for k, v in raw.items()}
        self._token(form)

    def _client_auth(self, form: dict[str, str]) -> str | None:
        """The authenticated client id, or None after answering the error (RFC 6749 §2.3.1, §5.2)."""
        fake = self.fake
        auth = self.headers.get("Authorization", "")
        basic = auth.startswith("Basic ")
        in_body = "client_secret" in form
        if basic and in_body:
            self._oauth_error(400, "invalid_request", "more than one client authentication method")
            return None
        if basic:
            if "client_secret_basic" not in fake.auth_methods:
                self._oauth_error(401, "invalid_client", "client_secret_basic not allowed for this client",
                                  {"WWW-Authenticate": 'Basic realm="fake"'})
                return None
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user, password = "", ""
            from urllib.parse import unquote_plus

            client_id, secret = unquote_plus(user), unquote_plus(password)
        elif in_body:
            if "client_secret_post" not in fake.auth_methods:
                self._oauth_error(401, "invalid_client", "client_secret_post not allowed for this client")
                return None
            client_id, secret = form.get("client_id", ""), form["client_secret"]
        else:
            self._oauth_error(401, "invalid_client", "no client authentication",
                              {"WWW-Authenticate": 'Basic realm="fake"'})
            return None
        if client_id != fake.client_id or not secrets.compare_digest(secret, fake.client_secret):
            self._oauth_error(401, "invalid_client", "client authentication failed",
                              {"WWW-Authenticate": 'Basic realm="fake"'} if basic else None)
            return None
        if "client_id" in form and form["client_id"] != client_id:
            self._oauth_error(400, "invalid_request", "client_id does not match the authenticated client")
            return None
        return client_id

    def _token(self, form: dict[str, str]) -> None:
        fake = self.fake
        client_id = self._client_auth(form)
        if client_id is None:
            return
        if "grant_type" not in form:
            return self._oauth_error(400, "invalid_request", "grant_type is required")
        if form["grant_type"] != "authorization_code":
            return self._oauth_error(400, "unsupported_grant_type", "only authorization_code")
        code = form.get("code")
        if not code:
            return self._oauth_error(400, "invalid_request", "code is required")
        with fake.lock:
            grant = fake.grants.get(code)
            if grant is None or grant.used or grant.expires < time.time() or grant.client_id != client_id:
                return self._oauth_error(400, "invalid_grant", "the code is unknown, used, expired or not yours")
            grant.used = True  # single use, even when the rest of this request is wrong (RFC 6749 §4.1.2)
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._oauth_error(400, "invalid_grant", "redirect_uri differs from the authorization request")
        verifier = form.get("code_verifier")
        if not verifier or not VERIFIER.match(verifier):
            return self._oauth_error(400, "invalid_grant", "code_verifier missing or malformed (RFC 7636 §4.1)")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()
        if computed != grant.challenge:
            return self._oauth_error(400, "invalid_grant", "code_verifier does not match the code_challenge")
        access = secrets.token_urlsafe(24)
        id_token = fake.id_token(grant)
        with fake.lock:
            fake.access_tokens[access] = {"sub": fake.user["sub"]}
            fake.issued.extend((verifier, access, id_token))
        self._json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                         "scope": " ".join(grant.scope), "id_token": id_token})


class FakeOidcServer:
    """Runs a :class:`FakeOidc` on a loopback port (context manager)."""

    def __init__(self, fake: FakeOidc) -> None:
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        fake.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.fake = fake
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeOidc:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
