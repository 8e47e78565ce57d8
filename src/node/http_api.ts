/**
 * The HTTP API of a node: the app over its {@link NodeView}, served on `GATEWAY_HTTP_PORT`.
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { createHttpApp, type HttpServerHandle, type NodeView, startHttpServer } from "../http/mod.ts";
import type { VersionRange } from "../lib/version_range.ts";
import { supportedVersionRange } from "../proxy/filters/mod.ts";
import type { BrokerDirectory } from "../upstream/broker_directory.ts";
import { KGATE_VERSION } from "../version.ts";

/**
 * Serves the HTTP API over `view` (its `/versions` route reads the Kafka versions from `directory`).
 *
 * @example
 * ```ts
 * const http = await startHttpApi(config, view, directory);
 * await http.shutdown();
 * ```
 */
export async function startHttpApi(
  config: GatewayConfig,
  view: NodeView,
  directory: BrokerDirectory,
): Promise<HttpServerHandle> {
  return await startHttpServer(
    createHttpApp(view, {
      users: config.adminApiUsers,
      securedMetrics: config.securedMetrics,
      versions: { kgate: KGATE_VERSION, kafkaProtocolVersions: () => clientVersions(directory) },
    }),
    {
      hostname: config.bindHost,
      port: config.httpPort,
      certFile: config.httpsCertFile,
      keyFile: config.httpsKeyFile,
    },
  );
}

/**
 * The versions the gateway offers clients, by API key: the cluster's, within what it can rewrite.
 *
 * @example
 * ```ts
 * clientVersions(directory).get(3); // Metadata, e.g. { min: 0, max: 12 }
 * ```
 */
export function clientVersions(directory: BrokerDirectory): Map<number, VersionRange> {
  const versions = new Map<number, VersionRange>();
  for (const [apiKey, range] of directory.apiVersions()) {
    const supported = supportedVersionRange(apiKey, range);
    if (supported) versions.set(apiKey, supported);
  }
  return versions;
}

/**
 * The HTTP API's URL as other nodes and operators reach it (a wildcard bind shows the advertised host).
 *
 * @example
 * ```ts
 * advertisedUrl("http://0.0.0.0:8888", "gw1.example.com"); // "http://gw1.example.com:8888"
 * ```
 */
export function advertisedUrl(url: string, advertisedHost: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === "0.0.0.0" || parsed.hostname === "[::]") {
    parsed.hostname = advertisedHost.includes(":") ? `[${advertisedHost}]` : advertisedHost;
  }
  return parsed.origin;
}
