/**
 * SaslHandshake (API key 17, v0-1) and SaslAuthenticate (API key 36, v0-2, flexible from v2): used by
 * the gateway's own upstream connections; clients' SASL frames are forwarded untouched. The specs and
 * types are generated (`../generated/`); this module keeps their import path.
 *
 * @module
 */

export {
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../generated/messages.ts";
export type {
  SaslAuthenticateRequestData,
  SaslAuthenticateResponseData,
  SaslHandshakeRequestData,
  SaslHandshakeResponseData,
} from "../generated/types.ts";
