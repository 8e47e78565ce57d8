/**
 * What a gateway node tells the others about itself: carried as JSON in the user data of its
 * consumer-group protocol metadata, so describing the group yields every live node's identity.
 *
 * Pure: no I/O.
 *
 * @module
 */

/** A gateway node's identity, as it publishes it when joining the group. */
export interface MemberIdentity {
  /** Node id (`GATEWAY_NODE_ID`), unique in the gateway cluster. */
  id: string;
  /** Host advertised to clients. */
  host: string;
  /** Kafka port range, inclusive. */
  ports: { first: number; last: number };
  /** Rack (zone), or null. */
  rack: string | null;
  /** HTTP API URL. */
  httpUrl: string;
  /** kgate version. */
  version: string;
  /** When the node started, ISO 8601. */
  startedAt: string;
  /** When the node first asked to join the group, ISO 8601. */
  joinedAt: string;
  /**
   * Share weight in the broker mapping, a finite number ≥ 0. Absent (as from nodes that predate it)
   * counts as 1; 0 takes no new share (a node being drained).
   */
  weight?: number;
  /**
   * Advertised host per listener name, when the node has several listeners (or hosts that differ from
   * `host`). Absent (as from nodes that predate listeners): `host` for every listener.
   */
  listenerHosts?: Record<string, string>;
}

/** The format version written in front of the identity (lets later versions add fields). */
const FORMAT = 1;

/**
 * Encodes an identity as JSON bytes.
 *
 * @example
 * ```ts
 * const bytes = encodeMemberIdentity(identity);
 * decodeMemberIdentity(bytes); // identity
 * ```
 */
export function encodeMemberIdentity(identity: MemberIdentity): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ kgate: FORMAT, ...identity }));
}

/**
 * Decodes what {@link encodeMemberIdentity} wrote; unknown extra fields are ignored. A missing weight
 * stays missing (it counts as 1); a present one must be a finite number ≥ 0.
 *
 * @throws {Error} naming what is wrong when the bytes are not a kgate identity (another client in the group)
 */
export function decodeMemberIdentity(bytes: Uint8Array): MemberIdentity {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new Error("member metadata is not JSON");
  }
  const v = value as Record<string, unknown>;
  if (typeof v !== "object" || v === null || typeof v.kgate !== "number") {
    throw new Error("member metadata is not a kgate identity");
  }
  const str = (key: string): string => {
    if (typeof v[key] !== "string" || v[key] === "") throw new Error(`member metadata: bad ${key}`);
    return v[key] as string;
  };
  const ports = v.ports as Record<string, unknown> | undefined;
  const isPort = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
  if (
    typeof ports !== "object" || ports === null || !isPort(ports.first) || !isPort(ports.last) ||
    (ports.first as number) > (ports.last as number)
  ) {
    throw new Error("member metadata: bad ports");
  }
  if (v.rack !== null && typeof v.rack !== "string") throw new Error("member metadata: bad rack");
  const weight = v.weight;
  if (weight !== undefined && !(typeof weight === "number" && Number.isFinite(weight) && weight >= 0)) {
    throw new Error("member metadata: bad weight");
  }
  const listenerHosts = v.listenerHosts;
  if (
    listenerHosts !== undefined &&
    (typeof listenerHosts !== "object" || listenerHosts === null || Array.isArray(listenerHosts) ||
      !Object.values(listenerHosts).every((h) => typeof h === "string" && h !== ""))
  ) {
    throw new Error("member metadata: bad listenerHosts");
  }
  return {
    id: str("id"),
    host: str("host"),
    ports: { first: ports.first as number, last: ports.last as number },
    rack: v.rack as string | null,
    httpUrl: typeof v.httpUrl === "string" ? v.httpUrl : "",
    version: str("version"),
    startedAt: str("startedAt"),
    joinedAt: str("joinedAt"),
    ...(weight !== undefined ? { weight } : {}),
    ...(listenerHosts !== undefined ? { listenerHosts: { ...listenerHosts as Record<string, string> } } : {}),
  };
}
