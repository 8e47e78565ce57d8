/** A gateway node's identity in its group-protocol metadata: JSON encoding, decoding, refusals. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMemberIdentity,
  encodeMemberIdentity,
  type MemberIdentity,
} from "../../src/cluster/member_identity.ts";

const IDENTITY: MemberIdentity = {
  id: "gw-1.example:6969",
  host: "gw-1.example",
  ports: { first: 6969, last: 6974 },
  rack: "eu-west-1a",
  httpUrl: "http://gw-1.example:8888",
  version: "0.1.0",
  startedAt: "2024-05-01T10:00:00.000Z",
  joinedAt: "2024-05-01T10:00:01.500Z",
};

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
/** The identity as written, with `changes` applied (undefined deletes a field). */
function written(changes: Record<string, unknown>): Uint8Array {
  const value: Record<string, unknown> = { kgate: 1, ...IDENTITY, ...changes };
  for (const [key, v] of Object.entries(changes)) if (v === undefined) delete value[key];
  return json(value);
}

function assertRefused(bytes: Uint8Array, message: string | RegExp, label: string): void {
  assert.throws(() => decodeMemberIdentity(bytes), (error: unknown) => {
    assert.ok(error instanceof Error, label);
    if (typeof message === "string") assert.equal(error.message, message, label);
    else assert.match(error.message, message, label);
    return true;
  }, label);
}

const nonEmpty = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
);
const identityArb: fc.Arbitrary<MemberIdentity> = fc.record({
  id: nonEmpty,
  host: nonEmpty,
  ports: fc.tuple(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }))
    .map(([a, b]) => ({ first: Math.min(a, b), last: Math.max(a, b) })),
  rack: fc.option(fc.string({ unit: "binary", maxLength: 12 }), { nil: null }),
  httpUrl: fc.oneof(fc.constant(""), fc.webUrl()),
  version: nonEmpty,
  startedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  joinedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
}).map((identity) => ({ ...identity, ports: { ...identity.ports } })); // plain prototypes, as JSON.parse gives

Deno.test("member identity: encoding", async (t) => {
  await t.step("JSON with the format version in front", () => {
    const bytes = encodeMemberIdentity(IDENTITY);
    assert.ok(bytes instanceof Uint8Array);
    const text = new TextDecoder().decode(bytes);
    assert.ok(text.startsWith('{"kgate":1,'), text);
    assert.deepEqual(JSON.parse(text), { kgate: 1, ...IDENTITY });
  });

  await t.step("round trip of a fixed identity, with and without a rack", () => {
    assert.deepEqual(decodeMemberIdentity(encodeMemberIdentity(IDENTITY)), IDENTITY);
    const noRack = { ...IDENTITY, rack: null };
    assert.deepEqual(decodeMemberIdentity(encodeMemberIdentity(noRack)), noRack);
  });

  await t.step("property: decode(encode(identity)) is the identity", () => {
    fc.assert(fc.property(identityArb, (identity) => {
      const decoded = decodeMemberIdentity(encodeMemberIdentity(identity));
      assert.deepEqual(decoded, identity);
      assert.ok(!("kgate" in decoded));
    }));
  });

  await t.step("decodes from a view into a larger buffer (kafkajs hands out Buffer slices)", () => {
    const bytes = encodeMemberIdentity(IDENTITY);
    const big = new Uint8Array(bytes.length + 10).fill(0x7b);
    big.set(bytes, 5);
    assert.deepEqual(decodeMemberIdentity(big.subarray(5, 5 + bytes.length)), IDENTITY);
  });
});

Deno.test("member identity: decoding is lenient where it may be", async (t) => {
  await t.step("unknown extra fields are ignored", () => {
    const decoded = decodeMemberIdentity(
      written({ zone: "z", capabilities: ["x"], ports: { ...IDENTITY.ports, extra: 1 }, nested: { a: 1 } }),
    );
    assert.deepEqual(decoded, IDENTITY);
  });

  await t.step("property: any extra fields are ignored", () => {
    const extras = fc.dictionary(
      // `weight` is a known optional field now: its own tests are below.
      fc.string({ maxLength: 10 }).filter((k) =>
        !(k in IDENTITY) && k !== "kgate" && k !== "weight" && k !== "__proto__"
      ),
      fc.jsonValue(),
      { maxKeys: 5 },
    );
    fc.assert(fc.property(identityArb, extras, (identity, extra) => {
      const bytes = json({ ...extra, kgate: 1, ...identity });
      assert.deepEqual(decodeMemberIdentity(bytes), identity);
    }));
  });

  await t.step("a later format version is read the same way", () => {
    assert.deepEqual(decodeMemberIdentity(written({ kgate: 2, newField: true })), IDENTITY);
  });

  await t.step("a missing or non-string httpUrl reads as empty", () => {
    assert.deepEqual(decodeMemberIdentity(written({ httpUrl: undefined })), { ...IDENTITY, httpUrl: "" });
    assert.deepEqual(decodeMemberIdentity(written({ httpUrl: 8888 })), { ...IDENTITY, httpUrl: "" });
  });
});

Deno.test("member identity: malformed metadata is refused, naming what is wrong", async (t) => {
  await t.step("not JSON", () => {
    const cases: [string, Uint8Array][] = [
      ["empty", new Uint8Array()],
      ["text", new TextEncoder().encode("hello")],
      ["truncated", encodeMemberIdentity(IDENTITY).subarray(0, 20)],
      ["consumer protocol bytes", new Uint8Array([0, 1, 0, 0, 0, 1, 0, 5, 116, 111, 112, 105, 99])],
    ];
    for (const [label, bytes] of cases) assertRefused(bytes, "member metadata is not JSON", label);
  });

  await t.step("not UTF-8", () => {
    const cases: [string, Uint8Array][] = [
      ["lone continuation byte", new Uint8Array([0x7b, 0x80, 0x7d])],
      ["0xff", new Uint8Array([0xff])],
      // Valid JSON apart from one invalid byte inside a string: decoding must not replace it silently.
      // {"<0xc3>(":1}
      ["invalid byte in a key", new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])],
      [
        "identity with an invalid byte in the host",
        (() => {
          const bytes = encodeMemberIdentity({ ...IDENTITY, host: "gw-X" });
          const at = new TextDecoder().decode(bytes).indexOf("gw-X") + 3;
          bytes[at] = 0xfe;
          return bytes;
        })(),
      ],
    ];
    for (const [label, bytes] of cases) assertRefused(bytes, /not JSON/, label);
  });

  await t.step("JSON that is not a kgate identity", () => {
    const cases: [string, unknown][] = [
      ["null", null],
      ["number", 1],
      ["string", "kgate"],
      ["array", [1, 2]],
      ["empty object", {}],
      ["identity without kgate", { ...IDENTITY }],
      ["kgate as a string", { ...IDENTITY, kgate: "1" }],
      ["kgate null", { ...IDENTITY, kgate: null }],
      ["kgate true", { ...IDENTITY, kgate: true }],
    ];
    for (const [label, value] of cases) {
      assertRefused(json(value), "member metadata is not a kgate identity", label);
    }
  });

  await t.step("missing, empty or non-string required strings", () => {
    for (const key of ["id", "host", "version", "startedAt", "joinedAt"]) {
      for (const bad of [undefined, "", null, 1, true, ["x"], { x: 1 }]) {
        assertRefused(
          written({ [key]: bad }),
          `member metadata: bad ${key}`,
          `${key}=${JSON.stringify(bad)}`,
        );
      }
    }
  });

  await t.step("bad ports", () => {
    const cases: [string, unknown][] = [
      ["missing", undefined],
      ["null", null],
      ["number", 6969],
      ["string", "6969-6974"],
      ["array", [6969, 6974]],
      ["empty object", {}],
      ["no last", { first: 6969 }],
      ["no first", { last: 6974 }],
      ["first a string", { first: "6969", last: 6974 }],
      ["last a string", { first: 6969, last: "6974" }],
      ["first fractional", { first: 6969.5, last: 6974 }],
      ["last fractional", { first: 6969, last: 6974.25 }],
      ["first null", { first: null, last: 6974 }],
      ["port 0", { first: 0, last: 6974 }],
      ["port above 65535", { first: 6969, last: 65536 }],
      ["first after last", { first: 6974, last: 6969 }],
    ];
    for (const [label, ports] of cases) {
      assertRefused(written({ ports }), "member metadata: bad ports", label);
    }
  });

  await t.step("rack of the wrong type", () => {
    for (const rack of [undefined, 1, true, ["r1"], { name: "r1" }]) {
      assertRefused(written({ rack }), "member metadata: bad rack", `rack=${JSON.stringify(rack)}`);
    }
  });

  await t.step("property: dropping any required field is refused with its name", () => {
    const required = ["id", "host", "ports", "rack", "version", "startedAt", "joinedAt"] as const;
    fc.assert(fc.property(identityArb, fc.constantFrom(...required), (identity, key) => {
      const value: Record<string, unknown> = { kgate: 1, ...identity };
      delete value[key];
      assert.throws(() => decodeMemberIdentity(json(value)), {
        name: "Error",
        message: `member metadata: bad ${key}`,
      });
    }));
  });
});

Deno.test("member identity: the optional weight", async (t) => {
  await t.step("absent: not written, not read, so nodes that predate it interoperate", () => {
    const text = new TextDecoder().decode(encodeMemberIdentity(IDENTITY));
    assert.ok(!text.includes("weight"), text);
    const decoded = decodeMemberIdentity(written({}));
    assert.deepEqual(decoded, IDENTITY);
    assert.ok(!("weight" in decoded));
  });

  await t.step("present: round trip of 0, fractions and integers", () => {
    for (const weight of [0, 0.25, 1, 2, 3, 1000]) {
      const identity = { ...IDENTITY, weight };
      assert.deepEqual(decodeMemberIdentity(encodeMemberIdentity(identity)), identity, String(weight));
      assert.deepEqual(decodeMemberIdentity(written({ weight })), identity, String(weight));
    }
  });

  await t.step("property: decode(encode(identity with a weight)) is the identity", () => {
    const weightArb = fc.oneof(fc.nat(100), fc.double({ min: 0, max: 1e6, noNaN: true }));
    fc.assert(fc.property(identityArb, weightArb, (identity, weight) => {
      const weighted = { ...identity, weight: Object.is(weight, -0) ? 0 : weight };
      assert.deepEqual(decodeMemberIdentity(encodeMemberIdentity(weighted)), weighted);
    }));
  });

  await t.step("a weight that is not a finite number >= 0 is refused, naming it", () => {
    for (const weight of [-1, -0.5, "2", "", null, true, [1], { w: 1 }]) {
      assertRefused(written({ weight }), "member metadata: bad weight", `weight=${JSON.stringify(weight)}`);
    }
    // What JSON.stringify makes of NaN and Infinity.
    const text = new TextDecoder().decode(encodeMemberIdentity({ ...IDENTITY, weight: Infinity }));
    assertRefused(new TextEncoder().encode(text), "member metadata: bad weight", "Infinity");
    // 1e999 parses as Infinity.
    const huge = text.replace('"weight":null', '"weight":1e999');
    assert.notEqual(huge, text);
    assertRefused(new TextEncoder().encode(huge), "member metadata: bad weight", "1e999");
  });
});
