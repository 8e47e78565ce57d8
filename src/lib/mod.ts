/**
 * Small shared utilities, one concern per module.
 *
 * @module
 */
export * from "./deadline.ts";
export * from "./close.ts";
export * from "./bytes_io.ts";
export * from "./version_range.ts";
