/**
 * Field layouts shared by several messages (Kafka's JSON repeats them inline; here they are built once).
 *
 * @module
 */

import type { FieldSpec, RawTaggedField } from "../schema.ts";

/** A broker endpoint as carried by `NodeEndpoints` in Produce, Fetch, ShareFetch and ShareAcknowledge. */
export interface NodeEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  _unknownTaggedFields?: RawTaggedField[];
}

/** Leader id and epoch, as in `CurrentLeader` fields. */
export interface LeaderIdAndEpoch {
  leaderId: number;
  leaderEpoch: number;
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
