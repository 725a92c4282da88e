"""Verify a Userflow access token in your own Python service (PyJWT >= 2.8).

    python verify_token.py https://<api>/.well-known/openid-configuration <audience> <token>

<audience> is the stack's TokenAudience output. Prints the verified claims as JSON.
"""

import json
import sys
import urllib.request

import jwt

discovery_url, audience, token = sys.argv[1:4]

# Once per process: the issuer and the JWKS URL (cache them; they change only with the stack).
with urllib.request.urlopen(discovery_url, timeout=5) as response:  # noqa: S310
    config = json.load(response)

# PyJWKClient fetches the keys once and again only for a `kid` it has not seen (key rotation).
keys = jwt.PyJWKClient(config["jwks_uri"], cache_keys=True, lifespan=300)

signing_key = keys.get_signing_key_from_jwt(token)
claims = jwt.decode(
    token,
    signing_key.key,
    algorithms=["ES256"],  # pinned: never take the algorithm from the token
    audience=audience,
    issuer=config["issuer"],
    options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
    leeway=30,  # seconds of clock skew
)
if jwt.get_unverified_header(token).get("typ") != "at+jwt":
    sys.exit("not an access token")
print(json.dumps(claims))
