/**
 * The gateway's own SASL/PLAIN credentials, written as a Kafka JAAS line (`KAFKA_SASL_JAAS_CONFIG`).
 *
 * @module
 */
import { z } from "zod";

const USERNAME = /username="([^"]*)"/;
const PASSWORD = /password="([^"]*)"/;

/** A PlainLoginModule JAAS line with a username and a password. */
export const plainJaas = {
  schema: z.string().regex(USERNAME).regex(PASSWORD),
  allowed: 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";',
};

/**
 * Extracts the username and password of a PlainLoginModule JAAS line ("" for a missing one).
 *
 * @example
 * ```ts
 * plainCredentials('... required username="u" password="p";'); // { username: "u", password: "p" }
 * ```
 */
export function plainCredentials(jaas: string): { username: string; password: string } {
  const username = USERNAME.exec(jaas)?.[1] ?? "";
  const password = PASSWORD.exec(jaas)?.[1] ?? "";
  return { username, password };
}
