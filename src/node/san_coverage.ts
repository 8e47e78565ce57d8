/**
 * Which advertised names a listener's certificate does not cover: each is logged at start, since a
 * client that checks host names (all of them, by default) cannot connect under such a name.
 *
 * @module
 */
import type { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import tls from "node:tls";
import { brokerHostName } from "../cluster/listener_endpoints.ts";
import type { ListenerConfig } from "../config/mod.ts";
import { logger } from "../log.ts";

const log = logger("tls");

/**
 * The DNS names and IP addresses of a certificate's subject alternative names (`DNS:` and `IP Address:`
 * entries), lower-cased.
 *
 * @example
 * ```ts ignore
 * certificateNames(credentials.current.certificate); // ["gw.example", "*.gw.example"]
 * ```
 */
export function certificateNames(certificate: Pick<X509Certificate, "subjectAltName">): string[] {
  const names: string[] = [];
  for (const entry of (certificate.subjectAltName ?? "").split(",")) {
    const m = /^\s*(DNS|IP Address):(.+?)\s*$/.exec(entry);
    if (m) names.push(m[2].toLowerCase());
  }
  return names;
}

/**
 * Whether a name matches one of `sans` as TLS clients check it (RFC 6125): exactly, or by a wildcard
 * `*.<rest>` standing for exactly one left-most label.
 *
 * @example
 * ```ts
 * nameCovered("broker1.gw.example", ["*.gw.example"]); // true
 * nameCovered("a.broker1.gw.example", ["*.gw.example"]); // false
 * nameCovered("gw.example", ["*.gw.example"]); // false
 * ```
 */
export function nameCovered(name: string, sans: readonly string[]): boolean {
  // Node's own check, the one node:tls clients run: no second reading of RFC 6125 to keep in step.
  const subjectaltname = sans.map((san) => (isIP(san) ? `IP Address:${san}` : `DNS:${san}`)).join(", ");
  const peer = { subjectaltname, subject: {} } as Pick<tls.PeerCertificate, "subjectaltname" | "subject">;
  return tls.checkServerIdentity(name, peer as tls.PeerCertificate) === undefined;
}

/**
 * The names among `names` that `sans` do not cover, in order.
 *
 * @example
 * ```ts
 * uncoveredNames(["gw.example", "broker1.gw.example"], ["*.gw.example"]); // ["gw.example"]
 * ```
 */
export function uncoveredNames(names: readonly string[], sans: readonly string[]): string[] {
  return names.filter((name) => !nameCovered(name, sans));
}

/**
 * The names clients reach `listener` by on this node: its advertised host, and under host routing
 * `<prefix><b>.<host>` for each broker in `brokerIds`.
 *
 * @example
 * ```ts ignore
 * advertisedNames(listener, [1, 2]); // ["gw.example", "broker1.gw.example", "broker2.gw.example"]
 * ```
 */
export function advertisedNames(
  listener: Pick<ListenerConfig, "routing" | "advertisedHost" | "advertisedHostPrefix">,
  brokerIds: readonly number[],
): string[] {
  const names = [listener.advertisedHost];
  if (listener.routing === "host") {
    for (const id of brokerIds) {
      names.push(brokerHostName(listener.advertisedHostPrefix, id, listener.advertisedHost));
    }
  }
  return names;
}

/**
 * Logs a warning for each name of {@link advertisedNames} that the listener's certificate does not
 * cover (clients that check host names refuse the connection); returns those names.
 *
 * @example
 * ```ts ignore
 * warnAboutUncoveredNames(listener, credentials.current.certificate, directory.brokers().map((b) => b.nodeId));
 * ```
 */
export function warnAboutUncoveredNames(
  listener: Pick<ListenerConfig, "name" | "routing" | "advertisedHost" | "advertisedHostPrefix">,
  certificate: Pick<X509Certificate, "subjectAltName">,
  brokerIds: readonly number[],
): string[] {
  const sans = certificateNames(certificate);
  const uncovered = uncoveredNames(advertisedNames(listener, brokerIds), sans);
  for (const name of uncovered) {
    log.warn(
      "listener {listener}: its certificate does not cover {name} (subject alternative names: {sans}): clients that check host names cannot connect under it",
      { listener: listener.name, name, sans: sans.join(", ") || "none" },
    );
  }
  return uncovered;
}
