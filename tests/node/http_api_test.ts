/** The HTTP API's advertised URL: a wildcard bind shows the advertised host. */
import assert from "node:assert/strict";
import { advertisedUrl } from "../../src/node/http_api.ts";

Deno.test("advertisedUrl", () => {
  assert.equal(advertisedUrl("http://0.0.0.0:8888", "gw1.example.com"), "http://gw1.example.com:8888");
  assert.equal(advertisedUrl("https://[::]:8443", "fd00::1"), "https://[fd00::1]:8443");
  assert.equal(advertisedUrl("http://10.0.0.5:8888/", "gw1.example.com"), "http://10.0.0.5:8888");
});
