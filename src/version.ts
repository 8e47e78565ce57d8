/** The kgate version, kept equal to deno.json's. */
export const KGATE_VERSION = "0.1.0";
