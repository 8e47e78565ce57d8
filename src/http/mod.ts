/**
 * kgate's HTTP API: probes (`/health/live`, `/health/ready`), Prometheus `/metrics`, `/versions`, the
 * admin API under `/api/v1` (basic auth) and its documentation (`/openapi.json`, `/docs`), all read
 * from a {@link NodeView}.
 *
 * {@link createHttpApp} builds a pure Hono app (test it with `app.request(...)`);
 * {@link startHttpServer} serves it over HTTP/1.1 (HTTPS when a certificate and key are given) with the
 * request-head deadline and size limits of `http1.ts`.
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
export { type ApiInfo, apiInfo, createHttpApp, type HttpApp, type HttpAppOptions } from "./app.ts";
export {
  type FetchApp,
  HttpServerError,
  type HttpServerHandle,
  type HttpServerOptions,
  startHttpServer,
} from "./server.ts";
export { type BasicAuthUser, type CredentialVerifier, credentialVerifier, timingSafeEqual } from "./auth.ts";
export type { VersionsSource } from "./routes/versions.ts";
export type { ErrorBody, ReadinessBody } from "./schemas.ts";
export type { VersionRange } from "../lib/version_range.ts";
export type { ClusterMember, ClusterView, MappedBroker, NodeView, Readiness } from "./node_view.ts";
export type { UpstreamBrokerInfo } from "../upstream/broker_directory.ts";
