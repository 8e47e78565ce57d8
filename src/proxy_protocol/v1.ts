/**
 * The human-readable (version 1) header: `PROXY TCP4|TCP6|UNKNOWN ...\r\n`, at most 107 bytes.
 *
 * The line is read one byte at a time by a small state machine that stops at the first byte that
 * cannot belong to a valid header, so a prefix that is already wrong is rejected without waiting for
 * the CRLF, and the verdict for a given byte sequence is the same however it was split into reads.
 *
 * @module
 */

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
import {
  type ProxyEndpoint,
  type ProxyParseResult,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
} from "./types.ts";

/** Maximum v1 line length, CRLF included. */
export const V1_MAX_LENGTH = 107;
/** Length of the `PROXY ` prefix. */
export const V1_PREFIX_LENGTH = 6;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

const FAMILIES = ["TCP4", "TCP6", "UNKNOWN"] as const;
type V1Family = typeof FAMILIES[number];

const FIELD_NAMES = ["source address", "destination address", "source port", "destination port"];

enum State {
  Family,
  Fields,
  ExpectLf,
  UnknownRest,
  UnknownCr,
}

const INCOMPLETE: ProxyParseResult = { kind: "incomplete" };

function fail(code: ProxyProtocolErrorCode, message: string, offset: number): ProxyParseResult {
  return { kind: "error", error: new ProxyProtocolError(code, `v1 header: ${message}`, offset) };
}

function show(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `0x${hex2(byte)}`;
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function validPort(text: string): number | undefined {
  if (!PORT.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** Can `text` (non-empty) still grow into a valid address of `family`? */
function addressPrefixOk(family: V1Family, text: string): boolean {
  if (family === "TCP4") {
    if (text.length > 15 || !/^[0-9.]+$/.test(text)) return false;
    const parts = text.split(".");
    if (parts.length > 4) return false;
    return parts.every((p, i) => (p === "" ? i === parts.length - 1 && i > 0 : validOctet(p)));
  }
  return text.length <= 45 && /^[0-9a-fA-F:.]+$/.test(text);
}

function validOctet(text: string): boolean {
  return /^(?:0|[1-9][0-9]{0,2})$/.test(text) && Number(text) <= 255;
}

/** Parses `bytes`, which start with `PROXY ` (or a prefix of it when shorter: then incomplete). */
export function parseV1(bytes: Uint8Array): ProxyParseResult {
  if (bytes.length < V1_PREFIX_LENGTH) return INCOMPLETE;
  let state = State.Family as State;
  let family: V1Family | undefined;
  let token = "";
  const fields: string[] = [];
  const values: (string | number)[] = [];
  let field = "";
  let fieldStart = V1_PREFIX_LENGTH;

  // Validates the complete field `field` (index fields.length) ending before `end`.
  const finishField = (end: number): ProxyParseResult | undefined => {
    const index = fields.length;
    const name = FIELD_NAMES[index];
    if (field === "") {
      return fail("v1-syntax", `empty ${name}: fields must be separated by exactly one space`, end);
    }
    if (index < 2) {
      const parsed = family === "TCP4" ? parseIPv4(field) : parseIPv6(field);
      if (!parsed) {
        return fail(
          "v1-bad-address",
          `${name} "${field}" is not a valid ${
            family === "TCP4" ? "IPv4" : "IPv6"
          } address (family ${family})`,
          fieldStart,
        );
      }
      values.push(parsed.length === 4 ? formatIPv4(parsed) : formatIPv6(parsed));
    } else {
      const port = validPort(field);
      if (port === undefined) {
        return fail(
          "v1-bad-port",
          `${name} "${field}" is not a decimal number 0..65535 without leading zeros`,
          fieldStart,
        );
      }
      values.push(port);
    }
    fields.push(field);
    field = "";
    return undefined;
  };

  for (let i = V1_PREFIX_LENGTH; i < bytes.length; i++) {
    const c = bytes[i];
    switch (state) {
      case State.Family: {
        if (c === SP || c === CR) {
          const f = FAMILIES.find((name) => name === token);
          if (token === "") return fail("v1-syntax", "expected exactly one space after PROXY", i);
          if (!f) {
            return fail("v1-syntax", `unsupported protocol "${token}" (expected TCP4, TCP6 or UNKNOWN)`, i);
          }
          family = f;
          if (c === CR) {
            if (f !== "UNKNOWN") return fail("v1-syntax", `${f} must be followed by addresses and ports`, i);
            state = State.ExpectLf;
          } else {
            state = f === "UNKNOWN" ? State.UnknownRest : State.Fields;
            fieldStart = i + 1;
          }
        } else if (c === LF) {
          return fail("v1-syntax", "LF without a preceding CR", i);
        } else {
          token += String.fromCharCode(c);
          if (!FAMILIES.some((name) => name.startsWith(token))) {
            return fail(
              "v1-syntax",
              `unsupported protocol starting with "${token.slice(0, -1)}" then ${show(c)} ` +
                "(expected TCP4, TCP6 or UNKNOWN)",
              i,
            );
          }
        }
        break;
      }
      case State.Fields: {
        if (c === SP) {
          const err = finishField(i);
          if (err) return err;
          if (fields.length === 4) return fail("v1-syntax", "unexpected data after the destination port", i);
          fieldStart = i + 1;
        } else if (c === CR) {
          const err = finishField(i);
          if (err) return err;
          if (fields.length !== 4) {
            return fail(
              "v1-syntax",
              `line ends after the ${FIELD_NAMES[fields.length - 1]}: fields missing`,
              i,
            );
          }
          state = State.ExpectLf;
        } else if (c === LF) {
          return fail("v1-syntax", "LF without a preceding CR", i);
        } else {
          field += String.fromCharCode(c);
          const index = fields.length;
          if (index < 2 ? !addressPrefixOk(family!, field) : validPort(field) === undefined) {
            return index < 2
              ? fail(
                "v1-bad-address",
                `${FIELD_NAMES[index]} "${field.slice(0, -1)}" then ${show(c)} cannot be a valid ` +
                  `${family === "TCP4" ? "IPv4" : "IPv6"} address (family ${family})`,
                i,
              )
              : fail(
                "v1-bad-port",
                `${FIELD_NAMES[index]} "${field.slice(0, -1)}" then ${show(c)} cannot be a decimal ` +
                  "number 0..65535 without leading zeros",
                i,
              );
          }
        }
        break;
      }
      case State.ExpectLf: {
        if (c !== LF) return fail("v1-syntax", `CR followed by ${show(c)} instead of LF`, i);
        const consumed = i + 1;
        if (family === "UNKNOWN") {
          return {
            kind: "header",
            header: { version: 1, command: "PROXY", family, tlvs: { unknown: [] } },
            consumed,
          };
        }
        const source: ProxyEndpoint = { address: values[0] as string, port: values[2] as number };
        const destination: ProxyEndpoint = { address: values[1] as string, port: values[3] as number };
        return {
          kind: "header",
          header: {
            version: 1,
            command: "PROXY",
            family: family!,
            source,
            destination,
            tlvs: { unknown: [] },
          },
          consumed,
        };
      }
      case State.UnknownRest:
        if (c === CR) state = State.UnknownCr;
        break;
      case State.UnknownCr:
        if (c === LF) {
          return {
            kind: "header",
            header: { version: 1, command: "PROXY", family: "UNKNOWN", tlvs: { unknown: [] } },
            consumed: i + 1,
          };
        }
        if (c !== CR) state = State.UnknownRest;
        break;
    }
    if (i + 1 >= V1_MAX_LENGTH) {
      return fail("v1-too-long", `no CRLF within the first ${V1_MAX_LENGTH} bytes`, i);
    }
  }
  return INCOMPLETE;
}
