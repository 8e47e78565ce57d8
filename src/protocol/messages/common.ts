/**
 * Field layouts shared by several messages (Kafka's JSON repeats them inline; here they are built once).
 *
 * @module
 */

import type { FieldSpec, RawTaggedField } from "../schema.ts";

/** A broker endpoint as carried by `NodeEndpoints` in Produce, Fetch, ShareFetch and ShareAcknowledge. */
export interface NodeEndpoint {
  /** Broker node id. */
  nodeId: number;
  /** Advertised host name. */
  host: string;
  /** Advertised port. */
  port: number;
  /** Rack of the broker, or null when it has none. */
  rack: string | null;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Leader id and epoch, as in `CurrentLeader` fields. */
export interface LeaderIdAndEpoch {
  /** Node id of the current leader, or -1 when unknown. */
  leaderId: number;
  /** Leader epoch, or -1 when unknown. */
  leaderEpoch: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** The `NodeEndpoint` struct fields, existing from version `v`. */
export function nodeEndpointFields(v: string): FieldSpec[] {
  return [
    { name: "NodeId", type: "int32", versions: v, about: "The ID of the associated node." },
    { name: "Host", type: "string", versions: v, about: "The node's hostname." },
    { name: "Port", type: "int32", versions: v, about: "The node's port." },
    {
      name: "Rack",
      type: "string",
      versions: v,
      nullableVersions: v,
      default: "null",
      about: "The rack of the node, or null if it has not been assigned to a rack.",
    },
  ];
}

/** The `LeaderIdAndEpoch` struct fields, existing from version `v`, with Kafka's `-1` defaults. */
export function leaderIdAndEpochFields(v: string, withDefaults: boolean): FieldSpec[] {
  const d = withDefaults ? "-1" : undefined;
  return [
    {
      name: "LeaderId",
      type: "int32",
      versions: v,
      default: d,
      about: "The ID of the current leader or -1.",
    },
    { name: "LeaderEpoch", type: "int32", versions: v, default: d, about: "The latest known leader epoch." },
  ];
}
