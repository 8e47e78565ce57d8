/**
 * Gateway configuration: one zod schema of settings (src/config/schema.ts), read from environment
 * variables (Conduktor Gateway names) and equal CLI flags.
 *
 * The CLI flag of a setting is its variable name in kebab case without the `GATEWAY_` prefix:
 * `GATEWAY_PORT_START` is `--port-start`, `KAFKA_BOOTSTRAP_SERVERS` is `--kafka-bootstrap-servers`.
 * A flag wins over the variable.
 *
 * @module
 */
export { type Command, rawSettings, readCommandLine } from "./cli.ts";
export { CONFIG_TABLE_HEADER, configTable, configTableRows, helpText } from "./docs.ts";
export {
  type JaasEntry,
  JaasError,
  type OAuthTokenSpec,
  parseJaas,
  SASL_MECHANISMS,
  type SaslCredentials,
  saslCredentials,
  type SaslMechanism,
} from "./jaas.ts";
export {
  LISTENER_SUFFIXES,
  type ListenerClientAuth,
  type ListenerConfig,
  type ListenerTls,
  type RoutingMechanism,
  SINGLE_LISTENER_VARIABLES,
} from "./listeners.ts";
export { ConfigError, parseConfig } from "./parse.ts";
export { redactedConfig } from "./redact.ts";
export {
  DEFAULT_ADMIN_USER,
  type GatewayConfig,
  GatewayConfigSchema,
  type LogFormat,
  type LogLevelName,
  type SettingKey,
  SETTINGS,
  type SettingSpec,
  type UpstreamSecurityProtocol,
} from "./schema.ts";
export { flagName, type SettingDoc, type SettingMeta } from "./setting.ts";
