// Verify a Userflow access token in your own Node service (jose >= 5, Node >= 20).
//
//   node verify-token.mjs https://<api>/.well-known/openid-configuration <audience> <token>
//
// <audience> is the stack's TokenAudience output. Prints the verified claims as JSON.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [discoveryUrl, audience, token] = process.argv.slice(2);

// Once per process: the issuer and the JWKS URL (cache them; they change only with the stack).
const config = await (await fetch(discoveryUrl)).json();

// Fetches the keys once, and again for a `kid` it has not seen (key rotation).
const keys = createRemoteJWKSet(new URL(config.jwks_uri), { cacheMaxAge: 300_000 });

const { payload } = await jwtVerify(token, keys, {
  algorithms: ["ES256"], // pinned: never take the algorithm from the token
  issuer: config.issuer,
  audience,
  typ: "at+jwt",
  requiredClaims: ["exp", "iat", "iss", "aud", "sub", "jti"],
  clockTolerance: 30, // seconds of clock skew
});
console.log(JSON.stringify(payload));
