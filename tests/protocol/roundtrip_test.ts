import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ALL_MESSAGES,
  decodeMessage,
  encodeMessage,
  type MessageSpec,
  ProtocolError,
  versionList,
} from "../../src/protocol/mod.ts";
import { messageArbitrary } from "./arbitrary.ts";

const RUNS = 100;

function roundTrip(spec: MessageSpec<unknown>, version: number, x: unknown): Uint8Array {
  const bytes = encodeMessage(spec, version, x);
  const { value, offset } = decodeMessage(spec, version, bytes);
  assert.equal(offset, bytes.length);
  assert.deepStrictEqual(value, x);
  assert.deepStrictEqual(encodeMessage(spec, version, value), bytes);
  return bytes;
}

for (const spec of ALL_MESSAGES) {
  Deno.test(`${spec.name}: decode(encode(x)) == x and encode(decode(b)) == b, every version`, async (t) => {
    for (const version of versionList(spec)) {
      await t.step(`v${version}`, () => {
        fc.assert(fc.property(messageArbitrary(spec, version), (x) => void roundTrip(spec, version, x)), {
          numRuns: RUNS,
        });
      });
    }
  });

  Deno.test(`${spec.name}: every strict prefix of an encoding throws ProtocolError`, () => {
    for (const version of versionList(spec)) {
      fc.assert(
        fc.property(messageArbitrary(spec, version, { maxArray: 2 }), (x) => {
          const bytes = encodeMessage(spec, version, x);
          for (let k = 0; k < bytes.length; k++) {
            assert.throws(() => decodeMessage(spec, version, bytes.subarray(0, k)), ProtocolError);
          }
        }),
        { numRuns: 5 },
      );
    }
  });

  Deno.test(`${spec.name}: random and mutated bytes decode or throw ProtocolError, never anything else`, () => {
    const versions = versionList(spec);
    const check = (version: number, bytes: Uint8Array) => {
      try {
        decodeMessage(spec, version, bytes);
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
      }
    };
    fc.assert(
      fc.property(fc.constantFrom(...versions), fc.uint8Array({ maxLength: 64 }), check),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...versions).chain((v) =>
          fc.tuple(fc.constant(v), messageArbitrary(spec, v, { maxArray: 2 }), fc.nat(), fc.nat({ max: 255 }))
        ),
        ([version, x, pos, byte]) => {
          const bytes = encodeMessage(spec, version, x).slice();
          if (bytes.length > 0) bytes[pos % bytes.length] = byte;
          check(version, bytes);
        },
      ),
      { numRuns: 100 },
    );
  });
}

Deno.test("unsupported versions are rejected", () => {
  for (const spec of ALL_MESSAGES) {
    const versions = versionList(spec);
    const above = versions[versions.length - 1] + 1;
    assert.throws(() => decodeMessage(spec, above, new Uint8Array(64)), ProtocolError);
    assert.throws(() => encodeMessage(spec, above, {}), ProtocolError);
    assert.throws(() => decodeMessage(spec, -1, new Uint8Array(64)), ProtocolError);
  }
});
