/**
 * Kept while the other rooms of issue 9 merge: the configuration lives in src/config/ (import
 * `./config/mod.ts`); delete this file once nothing imports it.
 *
 * @module
 */
export * from "./config/mod.ts";
