/** Which advertised names a listener's certificate does not cover (logged at start). */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import {
  advertisedNames,
  certificateNames,
  nameCovered,
  uncoveredNames,
  warnAboutUncoveredNames,
} from "../../src/node/san_coverage.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";

Deno.test("nameCovered: exact names and one-label wildcards, as TLS clients check them", () => {
  const sans = ["gw.example", "*.gw.example"];
  assert.ok(nameCovered("gw.example", sans));
  assert.ok(nameCovered("broker1.gw.example", sans));
  assert.ok(nameCovered("BROKER1.GW.example.", sans));
  assert.ok(!nameCovered("a.broker1.gw.example", sans), "a wildcard stands for one label");
  assert.ok(!nameCovered("gw.example", ["*.gw.example"]), "a wildcard does not cover its parent");
  assert.ok(!nameCovered("broker1.other.example", sans));
  assert.ok(!nameCovered("xgw.example", sans));
  assert.ok(!nameCovered("broker1.gw.example", []));
  assert.ok(nameCovered("10.0.0.1", ["10.0.0.1"]));
});

Deno.test("uncoveredNames and advertisedNames: the bootstrap host and each broker's name under host routing", () => {
  const host = { routing: "host" as const, advertisedHost: "gw.example", advertisedHostPrefix: "broker" };
  assert.deepEqual(advertisedNames(host, [1, 2]), ["gw.example", "broker1.gw.example", "broker2.gw.example"]);
  assert.deepEqual(advertisedNames({ ...host, routing: "port" }, [1, 2]), ["gw.example"]);
  assert.deepEqual(uncoveredNames(advertisedNames(host, [1, 2]), ["*.gw.example"]), ["gw.example"]);
  assert.deepEqual(uncoveredNames(advertisedNames(host, [1, 2]), ["gw.example", "broker1.gw.example"]), [
    "broker2.gw.example",
  ]);
});

Deno.test("certificateNames and warnAboutUncoveredNames read a real certificate's SANs", async () => {
  const ca = await makeTestCa();
  try {
    const leaf = await makeLeafCert(ca, {
      commonName: "gw.example",
      subjectAltNames: ["DNS:*.gw.example", "IP:10.0.0.1"],
      usage: "server",
    });
    const certificate = new X509Certificate(await Deno.readTextFile(leaf.certFile));
    assert.deepEqual(certificateNames(certificate), ["*.gw.example", "10.0.0.1"]);
    const listener = {
      name: "EXTERNAL",
      routing: "host" as const,
      advertisedHost: "gw.example",
      advertisedHostPrefix: "broker",
    };
    // The common name is not a SAN: the bootstrap name is not covered, the broker names are.
    assert.deepEqual(warnAboutUncoveredNames(listener, certificate, [1, 2, 3]), ["gw.example"]);
    assert.deepEqual(
      warnAboutUncoveredNames({ ...listener, advertisedHost: "10.0.0.1", routing: "port" }, certificate, [1]),
      [],
    );
  } finally {
    await Deno.remove(ca.dir, { recursive: true });
  }
});
