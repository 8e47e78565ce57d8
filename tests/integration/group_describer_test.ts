/**
 * GroupDescriber against the real cluster: a kafkajs consumer group described over one kept coordinator
 * connection (members, client ids, protocol metadata), a group nobody joined, and a bootstrap list whose
 * first server is down. Binds no address of its own.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { AssignerProtocol, type Consumer, Kafka, logLevel, type PartitionAssigner } from "kafkajs";
import { parseConfig } from "../../src/config/mod.ts";
import { GroupDescriber } from "../../src/cluster/group_describer.ts";
import { createTopic, deleteTopic, testKafka, uniqueTopic } from "../harness/mod.ts";
import { waitUntil } from "../support/wait.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";

quietKafkajsTimerWarnings();

/** An assigner that publishes `userData` and assigns nothing. */
function publishing(userData: string): PartitionAssigner {
  return () => ({
    name: "describer-test",
    version: 1,
    protocol: ({ topics }) => ({
      name: "describer-test",
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 1,
        topics,
        userData: Buffer.from(userData),
      }),
    }),
    assign: ({ members }) =>
      Promise.resolve(members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: {},
          userData: Buffer.alloc(0),
        }),
      }))),
  });
}

Deno.test("GroupDescriber describes a live group, a group nobody joined, and skips a dead bootstrap server", async () => {
  const kafka = await testKafka();
  const topic = uniqueTopic("describer");
  const groupId = uniqueTopic("describer-g");
  await createTopic(topic, 1, 1);
  const client = new Kafka({
    clientId: "describer-member",
    brokers: [kafka.bootstrapServers.split(",")[0]],
    logLevel: logLevel.NOTHING,
  });
  const consumer: Consumer = client.consumer({
    groupId,
    partitionAssigners: [publishing("node-a")],
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
  });
  // The first bootstrap server refuses connections (port 1): the describer goes on to the next.
  const config = parseConfig({ KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:1,${kafka.bootstrapServers}` });
  const describer = new GroupDescriber(config, groupId, "describer-test");
  try {
    const nobody = await describer.describe();
    assert.deepEqual(nobody.members, []);
    assert.equal(nobody.state, "Dead");

    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachMessage: async () => {} });
    const group = await waitUntil(
      async () => {
        const g = await describer.describe();
        return g.state === "Stable" && g.members.length === 1 ? g : undefined;
      },
      30_000,
      "the group is Stable with one member",
    );
    const [member] = group.members;
    assert.equal(member.clientId, "describer-member");
    const metadata = AssignerProtocol.MemberMetadata.decode(Buffer.from(member.memberMetadata))!;
    assert.equal(metadata.userData.toString(), "node-a");
    assert.deepEqual(metadata.topics, [topic]);

    // A closed describer opens a new coordinator connection on the next call.
    describer.close();
    assert.equal((await describer.describe()).members[0].memberId, member.memberId);

    await consumer.disconnect();
    const left = await waitUntil(
      async () => {
        const g = await describer.describe();
        return g.members.length === 0 ? g : undefined;
      },
      30_000,
      "the member is gone after it left",
    );
    assert.equal(left.state, "Empty");
  } finally {
    describer.close();
    await consumer.disconnect().catch(() => {});
    await deleteTopic(topic);
  }
});
