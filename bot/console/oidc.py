"""OpenID Connect sign-in (Slack, Okta, Entra ID, Keycloak, Google…): authorization code + PKCE (S256).

The protocol is Authlib's (authorization URL with state, nonce and the S256 code challenge; the token
request with the client's authentication and the code verifier); ID tokens are verified with joserfc
(Authlib's JOSE library) against the provider's JWKS: signature with an allowed asymmetric algorithm,
``iss``, ``aud`` (and ``azp`` with several audiences), ``exp``/``iat``, ``sub`` and the ``nonce``.
The discovery document must name the issuer it was fetched for (OpenID Connect Discovery §4.3).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.config.console import OidcProvider
from bot.errors import HelpdeskError

log = logging.getLogger(__name__)
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
CACHE_SECONDS = 3600.0
LEEWAY_SECONDS = 60
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class SignInError(HelpdeskError):
    """A sign-in that cannot be accepted; ``user_message`` is shown, ``detail`` is logged."""

    default_message = "The sign-in could not be completed. Please try again."


@dataclass(frozen=True)
class Identity:
    """Who signed in, as the provider vouched for it."""

    email: str
    name: str
    subject: str
    provider: str


class OidcClient:
    """One provider: discovery and JWKS (cached), the authorization URL, and the code exchange."""

    def __init__(self, provider: OidcProvider, redirect_uri: str) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    # ------------------------------------------------------------------ discovery and keys
    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.provider.timeout_seconds, follow_redirects=False,
                                 headers={"Accept": "application/json"})
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInError(f"{self.provider.button} cannot be reached right now. Please try again later.",
                              detail=f"{what} of provider '{self.provider.name}': {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise SignInError(detail=f"{what} of provider '{self.provider.name}' is not a JSON object")
        return data

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour)."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < CACHE_SECONDS:
                return self._metadata
        data = self._get_json(self.provider.discovery_url, "discovery document")
        missing = [k for k in REQUIRED_METADATA if not isinstance(data.get(k), str)]
        if missing:
            raise SignInError(detail=f"provider '{self.provider.name}' discovery lacks {', '.join(missing)}")
        if data["issuer"].rstrip("/") + DISCOVERY_SUFFIX != self.provider.discovery_url:
            raise SignInError(detail=f"provider '{self.provider.name}': the discovery document's issuer does not "
                                     "match the discovery URL")
        with self._lock:
            self._metadata, self._metadata_at = data, time.monotonic()
        return data

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        raw = self._get_json(self.metadata()["jwks_uri"], "JWKS")
        try:
            keys = KeySet.import_key_set(raw)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise SignInError(detail=f"provider '{self.provider.name}' JWKS unusable: {type(exc).__name__}") from None
        with self._lock:
            self._keys = keys
        return keys

    def _session(self) -> OAuth2Client:
        meta = self.metadata()
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        auth_method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        return OAuth2Client(client_id=self.provider.client_id,
                            client_secret=self.provider.client_secret.get_secret_value(),
                            token_endpoint_auth_method=auth_method, scope=" ".join(self.provider.scopes),
                            redirect_uri=self.redirect_uri, code_challenge_method="S256",
                            timeout=self.provider.timeout_seconds)

    # ------------------------------------------------------------------ the flow
    def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser: the provider's authorization endpoint with our request."""
        with self._session() as client:
            url, _ = client.create_authorization_url(self.metadata()["authorization_endpoint"], state=state,
                                                     code_verifier=code_verifier, nonce=nonce)
        return str(url)

    def identity(self, *, code: str, code_verifier: str, nonce: str) -> Identity:
        """Exchange the code, verify the ID token, and return the verified e-mail (userinfo when needed)."""
        meta = self.metadata()
        with self._session() as client:
            try:
                token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                           code_verifier=code_verifier)
            except (OAuth2Error, httpx.HTTPError, ValueError) as exc:
                raise SignInError(detail=f"provider '{self.provider.name}' token request failed: "
                                         f"{getattr(exc, 'error', type(exc).__name__)}") from None
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise SignInError(detail=f"provider '{self.provider.name}' returned no id_token")
            claims = self.verify_id_token(id_token, nonce=nonce)
            if not claims.get("email") and isinstance(meta.get("userinfo_endpoint"), str):
                claims = {**self._userinfo(client, meta["userinfo_endpoint"], claims["sub"]), **claims}
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise SignInError("Your account at the identity provider has no e-mail address the console can use.",
                              detail=f"provider '{self.provider.name}': no email claim")
        if claims.get("email_verified") is False or claims.get("email_verified") == "false":
            raise SignInError("Your e-mail address is not verified at the identity provider.",
                              detail=f"provider '{self.provider.name}': email_verified is false")
        name = claims.get("name") or " ".join(str(claims.get(k) or "") for k in ("given_name", "family_name"))
        return Identity(email=email.strip().lower(), name=str(name).strip()[:200], subject=str(claims["sub"]),
                        provider=self.provider.name)

    def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims after checking signature, issuer, audience, expiry and nonce."""
        meta = self.metadata()
        offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = [a for a in offered if a in ASYMMETRIC] or ["RS256"]
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=algorithms)
            except JoseError:  # maybe the provider rotated its keys: fetch them once more
                decoded = jwt.decode(id_token, self._key_set(refresh=True), algorithms=algorithms)
            registry = jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": meta["issuer"]},
                aud={"essential": True, "value": self.provider.client_id},
                sub={"essential": True}, exp={"essential": True}, iat={"essential": True},
                nonce={"essential": True, "value": nonce})
            registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise SignInError(detail=f"provider '{self.provider.name}' ID token refused: {exc}") from None
        claims = dict(decoded.claims)
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.provider.client_id:
            raise SignInError(detail=f"provider '{self.provider.name}' ID token: azp is not this client")
        return claims

    def _userinfo(self, client: OAuth2Client, url: str, subject: str) -> dict[str, Any]:
        try:
            response = client.get(url)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError, OAuth2Error) as exc:
            raise SignInError(detail=f"provider '{self.provider.name}' userinfo failed: {type(exc).__name__}") from None
        if not isinstance(data, dict) or data.get("sub") != subject:
            raise SignInError(detail=f"provider '{self.provider.name}' userinfo is for another subject")
        return data
