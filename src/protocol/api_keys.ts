/**
 * Every Kafka API key (0..93, up to Kafka 4.3 / trunk) with its name and the first flexible version of
 * its request (from each `*Request.json` `flexibleVersions`), so request and response header versions
 * can be derived for any API, including ones the codec does not decode.
 *
 * @module
 */

/** Static facts about one API key. */
export interface ApiKeyInfo {
  /** API key number. */
  readonly key: number;
  /** Kafka's message name without the Request/Response suffix. */
  readonly name: string;
  /** First flexible version, or `null` when the API is never flexible. */
  readonly flexibleFrom: number | null;
}

// [name, flexibleFrom] indexed by api key.
const TABLE: ReadonlyArray<readonly [string, number | null]> = [
  ["Produce", 9], // 0
  ["Fetch", 12], // 1
  ["ListOffsets", 6], // 2
  ["Metadata", 9], // 3
  ["LeaderAndIsr", 4], // 4 (removed in Kafka 4.0)
  ["StopReplica", 2], // 5 (removed in Kafka 4.0)
  ["UpdateMetadata", 6], // 6 (removed in Kafka 4.0)
  ["ControlledShutdown", 3], // 7 (removed in Kafka 4.0)
  ["OffsetCommit", 8], // 8
  ["OffsetFetch", 6], // 9
  ["FindCoordinator", 3], // 10
  ["JoinGroup", 6], // 11
  ["Heartbeat", 4], // 12
  ["LeaveGroup", 4], // 13
  ["SyncGroup", 4], // 14
  ["DescribeGroups", 5], // 15
  ["ListGroups", 3], // 16
  ["SaslHandshake", null], // 17
  ["ApiVersions", 3], // 18
  ["CreateTopics", 5], // 19
  ["DeleteTopics", 4], // 20
  ["DeleteRecords", 2], // 21
  ["InitProducerId", 2], // 22
  ["OffsetForLeaderEpoch", 4], // 23
  ["AddPartitionsToTxn", 3], // 24
  ["AddOffsetsToTxn", 3], // 25
  ["EndTxn", 3], // 26
  ["WriteTxnMarkers", 1], // 27
  ["TxnOffsetCommit", 3], // 28
  ["DescribeAcls", 2], // 29
  ["CreateAcls", 2], // 30
  ["DeleteAcls", 2], // 31
  ["DescribeConfigs", 4], // 32
  ["AlterConfigs", 2], // 33
  ["AlterReplicaLogDirs", 2], // 34
  ["DescribeLogDirs", 2], // 35
  ["SaslAuthenticate", 2], // 36
  ["CreatePartitions", 2], // 37
  ["CreateDelegationToken", 2], // 38
  ["RenewDelegationToken", 2], // 39
  ["ExpireDelegationToken", 2], // 40
  ["DescribeDelegationToken", 2], // 41
  ["DeleteGroups", 2], // 42
  ["ElectLeaders", 2], // 43
  ["IncrementalAlterConfigs", 1], // 44
  ["AlterPartitionReassignments", 0], // 45
  ["ListPartitionReassignments", 0], // 46
  ["OffsetDelete", null], // 47
  ["DescribeClientQuotas", 1], // 48
  ["AlterClientQuotas", 1], // 49
  ["DescribeUserScramCredentials", 0], // 50
  ["AlterUserScramCredentials", 0], // 51
  ["Vote", 0], // 52
  ["BeginQuorumEpoch", 1], // 53
  ["EndQuorumEpoch", 1], // 54
  ["DescribeQuorum", 0], // 55
  ["AlterPartition", 0], // 56
  ["UpdateFeatures", 0], // 57
  ["Envelope", 0], // 58
  ["FetchSnapshot", 0], // 59
  ["DescribeCluster", 0], // 60
  ["DescribeProducers", 0], // 61
  ["BrokerRegistration", 0], // 62
  ["BrokerHeartbeat", 0], // 63
  ["UnregisterBroker", 0], // 64
  ["DescribeTransactions", 0], // 65
  ["ListTransactions", 0], // 66
  ["AllocateProducerIds", 0], // 67
  ["ConsumerGroupHeartbeat", 0], // 68
  ["ConsumerGroupDescribe", 0], // 69
  ["ControllerRegistration", 0], // 70
  ["GetTelemetrySubscriptions", 0], // 71
  ["PushTelemetry", 0], // 72
  ["AssignReplicasToDirs", 0], // 73
  ["ListConfigResources", 0], // 74 (ListClientMetricsResources before Kafka 4.1)
  ["DescribeTopicPartitions", 0], // 75
  ["ShareGroupHeartbeat", 0], // 76
  ["ShareGroupDescribe", 0], // 77
  ["ShareFetch", 0], // 78
  ["ShareAcknowledge", 0], // 79
  ["AddRaftVoter", 0], // 80
  ["RemoveRaftVoter", 0], // 81
  ["UpdateRaftVoter", 0], // 82
  ["InitializeShareGroupState", 0], // 83
  ["ReadShareGroupState", 0], // 84
  ["WriteShareGroupState", 0], // 85
  ["DeleteShareGroupState", 0], // 86
  ["ReadShareGroupStateSummary", 0], // 87
  ["StreamsGroupHeartbeat", 0], // 88
  ["StreamsGroupDescribe", 0], // 89
  ["DescribeShareGroupOffsets", 0], // 90
  ["AlterShareGroupOffsets", 0], // 91
  ["DeleteShareGroupOffsets", 0], // 92
  ["GetReplicaLogInfo", 0], // 93
];

/** All known API keys, indexed by key. */
export const API_KEYS: readonly ApiKeyInfo[] = TABLE.map(([name, flexibleFrom], key) => ({
  key,
  name,
  flexibleFrom,
}));

/** Highest API key in {@link API_KEYS}. */
export const MAX_API_KEY = API_KEYS.length - 1;

/** API key numbers by name, e.g. `ApiKey.Metadata === 3`. */
export const ApiKey: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(API_KEYS.map((k) => [k.name, k.key])),
);

/** True when `apiKey` is in the table. */
export function isKnownApiKey(apiKey: number): boolean {
  return Number.isInteger(apiKey) && apiKey >= 0 && apiKey <= MAX_API_KEY;
}

/** Kafka name of an API key, or `Unknown(<key>)`. */
export function apiName(apiKey: number): string {
  return isKnownApiKey(apiKey) ? API_KEYS[apiKey].name : `Unknown(${apiKey})`;
}

/**
 * True when `apiVersion` of `apiKey` uses the flexible encoding. Unknown (newer) API keys are assumed
 * flexible from v0, as every API added since KIP-482 is.
 */
export function isFlexibleApiVersion(apiKey: number, apiVersion: number): boolean {
  if (!isKnownApiKey(apiKey)) return true;
  const from = API_KEYS[apiKey].flexibleFrom;
  return from !== null && apiVersion >= from;
}

/**
 * Request header version for a request: 2 when the request version is flexible, else 1, except
 * ControlledShutdown v0 (a broker-to-controller request, gone from Kafka 4), which uses header v0
 * (no client id).
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 | 2 {
  if (apiKey === 7 && apiVersion === 0) return 0;
  return isFlexibleApiVersion(apiKey, apiVersion) ? 2 : 1;
}

/**
 * Response header version: 1 when the version is flexible, else 0. ApiVersions responses always use
 * header v0 (clients must read them before they know the broker's versions).
 */
export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === 18) return 0;
  return isFlexibleApiVersion(apiKey, apiVersion) ? 1 : 0;
}
