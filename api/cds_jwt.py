"""The JWT a CDS Hooks client sends as its bearer token, checked with a shared secret.

The CDS Hooks spec has the client sign with its own key and publish it (jku/JWKS); a shared-secret HS256 check
is the start this deployment supports. The token must name this service endpoint as its audience, carry an
expiry, a JWT id and (when the deployment lists issuers) an accepted issuer.
"""

from __future__ import annotations

from collections.abc import Sequence

import jwt

from cdss.errors import AuthError

ALGORITHMS = ["HS256", "HS384", "HS512"]
LEEWAY_SECONDS = 30


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("cdss_")


def verify_cds_jwt(token: str, *, secret: str | None, audience: str, issuers: Sequence[str]) -> str:
    """The issuer of a valid token; AuthError says what is wrong with any other (never echoing the token)."""
    if not secret:
        raise AuthError(
            "this deployment accepts no CDS Hooks JWT (CDSS_CDS_HOOKS_JWT_SECRET is unset); send an API key"
        )
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=ALGORITHMS,
            audience=audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("the CDS Hooks JWT has expired") from None
    except jwt.InvalidAudienceError:
        raise AuthError(f"the CDS Hooks JWT is not for this service: its aud must be {audience}") from None
    except jwt.MissingRequiredClaimError as error:
        raise AuthError(f"the CDS Hooks JWT lacks the {error.claim!r} claim") from None
    except jwt.InvalidTokenError as error:
        raise AuthError(f"the CDS Hooks JWT is not valid: {type(error).__name__}") from None
    if issuers and claims["iss"] not in issuers:
        raise AuthError(f"the CDS Hooks JWT's issuer {claims['iss']!r} is not one this deployment accepts")
    return str(claims["iss"])
