/**
 * Closing resources that may already be closed.
 *
 * @module
 */

/**
 * Closes `resource`, ignoring the error of one already closed.
 *
 * @example
 * ```ts
 * closeQuietly(conn);
 * ```
 */
export function closeQuietly(resource: { close(): void } | undefined): void {
  try {
    resource?.close();
  } catch {
    // already closed
  }
}
