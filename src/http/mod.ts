/**
 * kgate's HTTP API: probes (`/health/live`, `/health/ready`), Prometheus `/metrics`, `/versions`, the
 * admin API under `/api/v1` (basic auth) and its documentation (`/openapi.json`, `/docs`), all read
 * from a {@link NodeView}.
 *
 * {@link createHttpApp} builds a pure Hono app (test it with `app.request(...)`);
 * {@link startHttpServer} serves it with `Deno.serve`, over HTTPS when a certificate and key are given.
 *
 * @example
 * ```ts ignore
 * import { createHttpApp, startHttpServer } from "./src/http/mod.ts";
 *
 * const app = createHttpApp(view, {
 *   users: config.adminApiUsers,
 *   securedMetrics: config.securedMetrics,
 *   versions: { kafkaProtocolVersions: () => directory.apiVersions() },
 * });
 * const server = await startHttpServer(app, {
 *   hostname: config.bindHost,
 *   port: config.httpPort,
 *   certFile: config.httpsCertFile,
 *   keyFile: config.httpsKeyFile,
 *   signal: shutdownSignal,
 * });
 * console.log(`HTTP API on ${server.url}`);
 * await server.shutdown();
 * ```
 *
 * @module
 */
export { apiInfo, createHttpApp, type HttpApp, type HttpAppOptions } from "./app.ts";
export {
  type FetchApp,
  HttpServerError,
  type HttpServerHandle,
  type HttpServerOptions,
  startHttpServer,
} from "./server.ts";
export {
  type BasicAuthUser,
  type CredentialVerifier,
  credentialVerifier,
  parseBasicAuthorization,
  timingSafeEqual,
} from "./auth.ts";
export type { ApiVersionRange, VersionsSource } from "./routes/versions.ts";
export type { ApiInfo } from "./openapi.ts";
export type { ErrorBody } from "./errors.ts";
export type { ClusterMember, ClusterView, MappedBroker, NodeView, Readiness } from "./node_view.ts";
export type { UpstreamBrokerInfo } from "../upstream/broker_directory.ts";
