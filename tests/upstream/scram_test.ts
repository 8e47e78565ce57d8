/** SCRAM client (RFC 5802 / RFC 7677), the OAUTHBEARER token sources, and TLS failure reasons. */
import assert from "node:assert/strict";
import { ScramClient, ScramError } from "../../src/upstream/scram.ts";
import { OAuthToken, unsecuredJwt } from "../../src/upstream/oauth_token.ts";
import { saslExchange } from "../../src/upstream/sasl.ts";
import { tlsFailureReason } from "../../src/upstream/tls.ts";

// RFC 7677 section 3: user "user", password "pencil".
const CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
const SERVER_FIRST = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const CLIENT_FINAL =
  "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

Deno.test("scram: RFC 7677 SCRAM-SHA-256 test vector", async () => {
  const scram = new ScramClient("SCRAM-SHA-256", "user", "pencil", CLIENT_NONCE);
  assert.equal(scram.first(), `n,,n=user,r=${CLIENT_NONCE}`);
  assert.equal(await scram.final(SERVER_FIRST), CLIENT_FINAL);
  scram.verify(SERVER_FINAL);
});

Deno.test("scram: a wrong server signature, a foreign nonce and a server error are refused", async () => {
  const scram = new ScramClient("SCRAM-SHA-256", "user", "pencil", CLIENT_NONCE);
  await assert.rejects(scram.final(SERVER_FIRST.replace("rOprNG", "XXXXNG")), ScramError);
  await scram.final(SERVER_FIRST);
  assert.throws(() => scram.verify("v=AAAA"), /signature is wrong/);
  assert.throws(() => scram.verify("e=invalid-proof"), /invalid-proof/);
});

Deno.test("scram: SCRAM-SHA-512 makes a 64-byte proof; names are escaped", async () => {
  const scram = new ScramClient("SCRAM-SHA-512", "a=b,c", "pw", "abc");
  assert.equal(scram.first(), "n,,n=a=3Db=2Cc,r=abc");
  const final = await scram.final("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096");
  const proof = /,p=(.+)$/.exec(final)![1];
  assert.equal(atob(proof).length, 64);
});

Deno.test("sasl: PLAIN and OAUTHBEARER first messages", async () => {
  const plain = saslExchange({ mechanism: "PLAIN", username: "u", password: "p" });
  assert.equal(new TextDecoder().decode(await plain.start()), "\0u\0p");
  const oauth = saslExchange({
    mechanism: "OAUTHBEARER",
    token: new OAuthToken({ kind: "static", token: "T" }),
    extensions: { traceId: "1" },
  });
  assert.equal(new TextDecoder().decode(await oauth.start()), "n,,\x01auth=Bearer T\x01traceId=1\x01\x01");
});

Deno.test("oauth token: unsecured JWT shape; a token file is re-read when it changes", async () => {
  const [header, payload, signature] = unsecuredJwt("admin", 60, 1000).split(".");
  assert.deepEqual(JSON.parse(atob(header)), { alg: "none" });
  assert.deepEqual(JSON.parse(atob(payload)), { sub: "admin", iat: 1000, exp: 1060 });
  assert.equal(signature, "");

  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/token`;
    await Deno.writeTextFile(path, "first\n");
    const token = new OAuthToken({ kind: "file", path });
    assert.equal(await token.current(), "first");
    await Deno.writeTextFile(path, "second-token");
    assert.equal(await token.current(), "second-token");
    await Deno.remove(path);
    assert.equal(await token.current(), "second-token", "a vanished file keeps the last token");
    await assert.rejects(new OAuthToken({ kind: "file", path }).current(), /token file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls: failure reasons in words", () => {
  assert.equal(tlsFailureReason("invalid peer certificate: UnknownIssuer"), "certificate from an unknown CA");
  assert.match(tlsFailureReason("invalid peer certificate: NotValidForName"), /host name mismatch/);
  assert.match(
    tlsFailureReason(
      'invalid peer certificate: certificate not valid for name "x"; certificate is only valid for',
    ),
    /host name mismatch/,
  );
  assert.equal(tlsFailureReason("invalid peer certificate: Expired"), "certificate expired");
  assert.match(tlsFailureReason("received fatal alert: BadCertificate"), /requires a client certificate/);
});
