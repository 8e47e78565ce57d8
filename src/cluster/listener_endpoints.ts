/**
 * Host (SNI) routing's names: broker b of a listener is `<prefix><b>.<host>`, where host is the
 * advertised host of the gateway node the mapping chose; the TLS server name a client sends picks the
 * broker back out of it.
 *
 * Pure: no I/O.
 *
 * @module
 */
import type { BrokerEndpointMapper, Endpoint } from "./mapping.ts";

/** How a host-routing listener names its brokers. */
export interface HostRoutingNames {
  /** Label prefix: broker b is `<prefix><b>.<host>`. */
  readonly prefix: string;
  /** The port put in responses (every broker shares it). */
  readonly port: number;
}

/**
 * The advertised name of broker `brokerId` under `host`.
 *
 * @example
 * ```ts
 * brokerHostName("broker", 3, "gw.example.com"); // "broker3.gw.example.com"
 * ```
 */
export function brokerHostName(prefix: string, brokerId: number, host: string): string {
  return `${prefix}${brokerId}.${host}`;
}

/**
 * A mapper whose endpoints are host-routing names: the node `mapper` chose for each broker (its
 * advertised host) becomes `<prefix><b>.<that host>` at the listener's advertised port.
 *
 * @example
 * ```ts
 * import { singleHostMapping } from "./mapping.ts";
 * const mapper = hostRoutedMapper(singleHostMapping({ host: "gw.example", portStart: 9093, minBrokerId: 0 }), {
 *   prefix: "broker",
 *   port: 443,
 * });
 * mapper([{ nodeId: 2, rack: null }], { clientId: null, clientAddress: "" }).get(2); // { host: "broker2.gw.example", port: 443 }
 * ```
 */
export function hostRoutedMapper(
  mapper: BrokerEndpointMapper,
  names: HostRoutingNames,
): BrokerEndpointMapper {
  return (brokers, request) => {
    const endpoints = new Map<number, Endpoint>();
    for (const [brokerId, endpoint] of mapper(brokers, request)) {
      endpoints.set(brokerId, {
        host: brokerHostName(names.prefix, brokerId, endpoint.host),
        port: names.port,
      });
    }
    return endpoints;
  };
}

const BROKER_ID = /^\d{1,10}$/;

/**
 * The broker a TLS server name asks for: `<prefix><b>.<host>` (case-insensitive, a trailing dot
 * ignored) gives b; anything else (the host itself, another name, no name) gives undefined, which
 * routes the connection to any broker (a bootstrap connection).
 *
 * @example
 * ```ts
 * brokerOfServerName("Broker2.GW.example.", { prefix: "broker", host: "gw.example" }); // 2
 * brokerOfServerName("gw.example", { prefix: "broker", host: "gw.example" }); // undefined
 * ```
 */
export function brokerOfServerName(
  serverName: string | undefined,
  listener: { readonly prefix: string; readonly host: string },
): number | undefined {
  if (serverName === undefined) return undefined;
  const name = serverName.toLowerCase().replace(/\.$/, "");
  const suffix = `.${listener.host.toLowerCase().replace(/\.$/, "")}`;
  const prefix = listener.prefix.toLowerCase();
  if (!name.endsWith(suffix) || !name.startsWith(prefix)) return undefined;
  const label = name.slice(prefix.length, name.length - suffix.length);
  if (!BROKER_ID.test(label)) return undefined;
  const id = Number(label);
  return id <= 2147483647 ? id : undefined;
}
