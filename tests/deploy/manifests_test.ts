/**
 * The Kubernetes manifests of deploy/kubernetes/: valid against the Kubernetes schemas (the real validator,
 * `kubernetes-validate`, strict, offline: it carries its schemas), and right for kgate (every setting they
 * name exists, each variant's pod environment is a configuration kgate accepts, the probes hit the probe
 * routes, the drain fits the grace period, the load balancers listen where kgate advertises).
 */
import assert from "node:assert/strict";
import type { BrokerRef, GatewayNodeRef } from "../../src/cluster/mapping.ts";
import { LISTENER_SUFFIXES, parseListenerVariables } from "../../src/config/listeners.ts";
import { type GatewayConfig, type ListenerConfig, readCommandLine } from "../../src/config/mod.ts";
import { brokerMapping } from "../../src/node/broker_mapping.ts";
import { listenerRoute } from "../../src/node/kafka_listeners.ts";
import { selfRef } from "../../src/node/node_identity.ts";
import { KGATE_VERSION } from "../../src/version.ts";
import { makeApp } from "../http/fake_view.ts";
import { runCommand } from "../harness/process.ts";
import {
  KUBERNETES_VALIDATE_VERSION,
  kubernetesValidateCommand,
  kubernetesValidateVersion,
} from "../preflight.ts";
import {
  isSettingName,
  loadManifest,
  type Manifest,
  manifestFiles,
  mentionedSettingNames,
  only,
  podEnvironment,
  REPO,
  SECRET_SETTING_NAMES,
  type Variant,
  variantManifests,
  VARIANTS,
} from "./deploy_files.ts";

/** The oldest Kubernetes the manifests support (the preStop sleep action) and the newest schema shipped. */
const KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"];
/** Time kgate needs after the drain to close its connections and exit, with room to spare. */
const CLOSE_MARGIN_S = 10;

// deno-lint-ignore no-explicit-any
type Json = any;

/** The validator's command, or a failure that says how to install it (never a skip). */
async function validator(): Promise<string> {
  const install =
    `python3 -m pip install --break-system-packages kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}`;
  const command = await kubernetesValidateCommand();
  assert.ok(command, `kubernetes-validate is not installed; install it with: ${install}`);
  const version = await kubernetesValidateVersion(command);
  assert.equal(
    version,
    KUBERNETES_VALIDATE_VERSION,
    `kubernetes-validate ${version} found at ${command}, ${KUBERNETES_VALIDATE_VERSION} needed: ${install}`,
  );
  return command;
}

function kgateConfig(env: Record<string, string>): GatewayConfig {
  const command = readCommandLine([], () => env, KGATE_VERSION);
  assert.equal(command.kind, "run", command.kind === "refuse" ? `kgate refuses it: ${command.message}` : "");
  return (command as Extract<typeof command, { kind: "run" }>).config;
}

function container(manifests: Manifest[]): Json {
  return only(manifests, "StatefulSet").spec.template.spec.containers.find((c: Json) => c.name === "kgate");
}

/** A container port by name or number, as a number. */
function containerPort(c: Json, port: string | number): number | undefined {
  if (typeof port === "number") return c.ports.some((p: Json) => p.containerPort === port) ? port : undefined;
  return c.ports.find((p: Json) => p.name === port)?.containerPort;
}

/** The ports a listener listens on, and the port it advertises for each (same order). */
function kafkaPorts(listener: ListenerConfig): { listen: number[]; advertised: number[] } {
  if (listener.routing === "host") {
    return { listen: [listener.portStart], advertised: [listener.advertisedSniPort] };
  }
  const listen = Array.from({ length: listener.portCount ?? 0 }, (_, i) => listener.portStart + i);
  return { listen, advertised: listen };
}

/** The variants whose nodes have a listener behind one load balancer (every node advertises its host). */
const LOAD_BALANCED: ReadonlySet<Variant> = new Set(["external-lb", "sni", "two-listeners"]);

Deno.test("kubernetes-validate (strict, offline schemas) accepts every manifest", async () => {
  const command = await validator();
  const files = manifestFiles();
  const resources = files.flatMap(loadManifest).length;
  assert.ok(files.length >= 10 && resources >= 15, `only ${files.length} files / ${resources} objects found`);
  for (const version of KUBERNETES_VERSIONS) {
    const out = await runCommand(command, ["--strict", "--kubernetes-version", version, ...files], {
      cwd: REPO,
    });
    const output = (out.stdout + out.stderr).trim();
    console.log(
      `$ kubernetes-validate --strict --kubernetes-version ${version} deploy/kubernetes/**/*.yaml\n${output}`,
    );
    assert.equal(out.code, 0, `kubernetes-validate exited ${out.code}:\n${output}`);
    const lines = output.split("\n");
    const passed = lines.filter((line) => line.startsWith("INFO ") && line.includes(" passed for resource "));
    assert.equal(passed.length, resources, `one "passed" line per object expected:\n${output}`);
    assert.deepEqual(
      lines.filter((line) => !passed.includes(line)),
      [],
      "the validator reported more than passes",
    );
  }
});

Deno.test("kubernetes-validate rejects a broken manifest (the validation can fail)", async () => {
  const command = await validator();
  const dir = await Deno.makeTempDir({ prefix: "kgate-deploy-" });
  try {
    const statefulSet = Deno.readTextFileSync(`${REPO}deploy/kubernetes/internal-lb/statefulset.yaml`);
    const cases: Record<string, string> = {
      "unknown-field.yaml": statefulSet.replace("terminationGracePeriodSeconds:", "terminationGracePeriod:"),
      "wrong-type.yaml": statefulSet.replace("replicas: 3", 'replicas: "three"'),
      "missing-required.yaml": statefulSet.replace(
        /\n {6}containers:\n {8}- name: kgate\n/,
        "\n      containers:\n        -\n",
      ),
    };
    for (const [name, text] of Object.entries(cases)) {
      assert.notEqual(text, statefulSet, `${name}: the edit did not apply`);
      await Deno.writeTextFile(`${dir}/${name}`, text);
      const out = await runCommand(command, ["--strict", `${dir}/${name}`]);
      assert.notEqual(out.code, 0, `${name} passed:\n${out.stdout}${out.stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a listener variable counts as a setting exactly when kgate's listener parser takes it", () => {
  const unknownVariable = (name: string) => {
    const result = parseListenerVariables({ [name]: "1" }, { bindHost: "0.0.0.0", advertisedHost: "h" });
    return "issue" in result && result.issue.variable === name &&
      result.issue.allowed.startsWith("a variable GATEWAY_LISTENER_<NAME>_<SUFFIX>");
  };
  const accepted = LISTENER_SUFFIXES.flatMap((suffix) => [
    `GATEWAY_LISTENER_INTERNAL_${suffix}`,
    `GATEWAY_LISTENER_EXTERNAL2_${suffix}`,
  ]);
  const refused = [
    "GATEWAY_LISTENER_EXTERNAL_PORT",
    "GATEWAY_LISTENER_EXTERNAL_SNI_PORT",
    "GATEWAY_LISTENER_EXTERNAL_ROUTING_MECHANISM",
    "GATEWAY_LISTENER_EXT_ERNAL_PORTS",
    "GATEWAY_LISTENER_PORTS",
    "GATEWAY_LISTENER__PORTS",
  ];
  for (const name of accepted) {
    assert.ok(isSettingName(name), `${name} is not taken for a setting`);
    assert.ok(!unknownVariable(name), `kgate refuses ${name}`);
  }
  for (const name of refused) {
    assert.ok(!isSettingName(name), `${name} is taken for a setting`);
    assert.ok(unknownVariable(name), `kgate takes ${name}`);
  }
});

Deno.test("every GATEWAY_*/KAFKA_* name in deploy/ is a kgate setting", () => {
  const unknown: string[] = [];
  const listenerNames = new Set<string>();
  const files = [
    ...manifestFiles(),
    "deploy/Containerfile",
    "deploy/systemd/kgate.service",
    "deploy/systemd/kgate.env.example",
  ];
  for (const file of files) {
    for (const name of mentionedSettingNames(Deno.readTextFileSync(`${REPO}${file}`))) {
      if (!isSettingName(name)) unknown.push(`${file}: ${name}`);
      if (name.startsWith("GATEWAY_LISTENER_")) listenerNames.add(name);
    }
  }
  assert.deepEqual(
    unknown,
    [],
    "names that are not settings of src/config/schema.ts nor GATEWAY_LISTENER_<NAME>_<SUFFIX> of src/config/listeners.ts",
  );
  assert.ok(listenerNames.size >= 10, `the listener variables were not seen: ${[...listenerNames]}`);
});

Deno.test("secrets are in Secrets, never in a ConfigMap", () => {
  for (const { file, doc } of manifestFiles().flatMap(loadManifest)) {
    if (doc.kind !== "ConfigMap") continue;
    for (const key of Object.keys(doc.data ?? {})) {
      assert.ok(!SECRET_SETTING_NAMES.has(key), `${file}: the secret ${key} is in a ConfigMap`);
    }
  }
  for (const variant of VARIANTS) {
    const env = podEnvironment(variantManifests(variant));
    assert.ok(env.GATEWAY_ADMIN_API_USERS, `${variant}: GATEWAY_ADMIN_API_USERS is not set from the Secret`);
  }
});

for (const variant of VARIANTS) {
  Deno.test(`${variant}: the pod's environment is a configuration kgate accepts`, () => {
    const env = podEnvironment(variantManifests(variant));
    const config = kgateConfig(env);
    assert.equal(config.internalLoadBalancing, variant === "internal-lb" || variant === "two-listeners");
    assert.equal(config.rackId, "zone-a", "GATEWAY_RACK_ID comes from the zone label");
    const manifests = variantManifests(variant);
    const statefulSet = only(manifests, "StatefulSet");
    const expected: Record<Variant, Array<[string, "port" | "host", "PLAINTEXT" | "SSL"]>> = {
      "internal-lb": [["DEFAULT", "port", "PLAINTEXT"]],
      "external-lb": [["DEFAULT", "port", "PLAINTEXT"]],
      "sni": [["DEFAULT", "host", "SSL"]],
      "two-listeners": [["EXTERNAL", "host", "SSL"], ["INTERNAL", "port", "PLAINTEXT"]],
    };
    assert.deepEqual(
      config.listeners.map((l) => [l.name, l.routing, l.tls ? "SSL" : "PLAINTEXT"]),
      expected[variant],
    );
    for (const listener of config.listeners) {
      if (config.internalLoadBalancing && listener.routing === "port") {
        // Each pod advertises its own name under the headless Service, which must publish not-ready pods.
        const headless = only(manifests, "Service", statefulSet.spec.serviceName);
        assert.equal(headless.spec.clusterIP, "None");
        assert.equal(headless.spec.publishNotReadyAddresses, true);
        assert.equal(listener.advertisedHost, `kgate-0.${headless.metadata.name}.kgate.svc.cluster.local`);
      }
      if (!listener.tls) continue;
      // The certificate files are the mounted Secret's.
      const { certFile, keyFile } = listener.tls;
      const mount = container(manifests).volumeMounts.find((m: Json) =>
        certFile.startsWith(`${m.mountPath}/`)
      );
      assert.ok(mount, `${listener.tls.variables.certFile} is not under a volume mount`);
      assert.ok(keyFile.startsWith(`${mount.mountPath}/`));
      const volume = statefulSet.spec.template.spec.volumes.find((v: Json) => v.name === mount.name);
      const secret = only(manifests, "Secret", volume.secret.secretName);
      assert.equal(secret.type, "kubernetes.io/tls");
      for (const file of [certFile, keyFile]) {
        const key = file.slice(mount.mountPath.length + 1);
        assert.ok(key in (secret.stringData ?? secret.data ?? {}), `${file}: no key ${key} in the Secret`);
      }
    }
  });

  Deno.test(`${variant}: every name a pod advertises reaches a pod that routes it to that broker`, () => {
    const manifests = variantManifests(variant);
    const replicas = only(manifests, "StatefulSet").spec.replicas;
    const pods = Array.from(
      { length: replicas },
      (_, i) => kgateConfig(podEnvironment(manifests, `kgate-${i}`)),
    );
    // Without GATEWAY_NODE_ID behind a load balancer the id is the hostname: the pod name in Kubernetes,
    // this machine's name here; otherwise it comes from the pod's environment and must differ per pod.
    const env = podEnvironment(manifests);
    if (env.GATEWAY_NODE_ID || pods[0].internalLoadBalancing) {
      assert.equal(new Set(pods.map((p) => p.nodeId)).size, replicas, "node ids are not unique");
    }
    const brokers: BrokerRef[] = [1, 2, 3, 4, 5].map((nodeId) => ({ nodeId, rack: null }));
    const clients = Array.from(
      { length: 20 },
      (_, i) => ({ clientId: `client-${i}`, clientAddress: `10.1.0.${i}:5000` }),
    );
    for (const listener of pods[0].listeners) {
      const liveNodes = (name: string): GatewayNodeRef[] => pods.map((p) => selfRef(p, name));
      const { mapper } = brokerMapping(pods[0], listener, liveNodes);
      const hosts = new Set<string>();
      for (const client of clients) {
        const endpoints = mapper(brokers, client);
        assert.equal(endpoints.size, brokers.length, `${listener.name}: not every broker is mapped`);
        for (const [broker, endpoint] of endpoints) {
          // Host routing: every broker at the listener's one advertised port (the load balancer's).
          if (listener.routing === "host") assert.equal(endpoint.port, listener.advertisedSniPort);
          // The pods a connection to this endpoint can land on: those advertising its host on this listener
          // (a shared host is a load balancer in front of them all).
          const targets = pods.map((p) => p.listeners.find((l) => l.name === listener.name)!).filter((l) =>
            listener.routing === "port"
              ? l.advertisedHost === endpoint.host
              : endpoint.host.endsWith(`.${l.advertisedHost}`)
          );
          assert.ok(targets.length > 0, `${listener.name}: ${endpoint.host} is no pod's host`);
          for (const target of targets) {
            const local = listener.routing === "port" ? endpoint.port : target.portStart;
            const tls = listener.routing === "host" ? { serverName: endpoint.host } : undefined;
            assert.equal(
              listenerRoute(target, pods[0].minBrokerId)(local, tls),
              broker,
              `${listener.name}: ${endpoint.host}:${endpoint.port} does not reach broker ${broker}`,
            );
          }
          hosts.add(listener.routing === "host" ? endpoint.host.replace(/^[^.]*\./, "") : endpoint.host);
        }
      }
      // Behind a load balancer every name is under its one host; with internal load balancing on a port
      // routing listener, the brokers spread over the pods' own names.
      const spread = pods[0].internalLoadBalancing && listener.routing === "port";
      assert.equal(hosts.size, spread ? replicas : 1, `${listener.name}: advertised under ${[...hosts]}`);
      if (!spread) {
        // One host for every pod: the load balancer's.
        const shared = new Set(
          pods.map((p) => p.listeners.find((l) => l.name === listener.name)!.advertisedHost),
        );
        assert.equal(shared.size, 1, `${listener.name}: the pods advertise ${[...shared]}`);
      }
    }
  });

  Deno.test(`${variant}: probes hit kgate's readiness and liveness routes on the HTTP port, unauthenticated`, async () => {
    const manifests = variantManifests(variant);
    const env = podEnvironment(manifests);
    const config = kgateConfig(env);
    const c = container(manifests);
    for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
      const get = c[probe]?.httpGet;
      if (probe !== "startupProbe") assert.ok(get, `${probe} is not an HTTP GET`);
      if (!get) continue;
      assert.equal(containerPort(c, get.port), config.httpPort, `${probe} does not target GATEWAY_HTTP_PORT`);
      assert.equal(get.scheme ?? "HTTP", config.httpsCertFile ? "HTTPS" : "HTTP");
    }
    const { app, view } = makeApp();
    const notReady = { ready: false, checks: { listening: false }, reasons: ["not listening"] };
    // Readiness: 200 when ready, 503 when not, without credentials.
    assert.equal((await app.request(c.readinessProbe.httpGet.path)).status, 200);
    view.ready = notReady;
    assert.equal(
      (await app.request(c.readinessProbe.httpGet.path)).status,
      503,
      "the readiness probe ignores readiness",
    );
    // Liveness (and startup): 200 whatever the readiness, so a node that cannot reach Kafka is not restarted.
    for (const probe of ["livenessProbe", "startupProbe"]) {
      if (c[probe]) {
        assert.equal((await app.request(c[probe].httpGet.path)).status, 200, `${probe} is not liveness`);
      }
    }
  });

  Deno.test(`${variant}: the drain fits in terminationGracePeriodSeconds after the preStop pause`, () => {
    const manifests = variantManifests(variant);
    const config = kgateConfig(podEnvironment(manifests));
    const spec = only(manifests, "StatefulSet").spec.template.spec;
    const pause = container(manifests).lifecycle?.preStop?.sleep?.seconds;
    assert.ok(typeof pause === "number" && pause > 0, "no preStop sleep");
    const needed = pause + config.drainMs / 1000 + CLOSE_MARGIN_S;
    assert.ok(
      spec.terminationGracePeriodSeconds >= needed,
      `terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} < preStop ${pause} s + drain ` +
        `${config.drainMs / 1000} s + ${CLOSE_MARGIN_S} s`,
    );
  });

  Deno.test(`${variant}: ports — the pod listens on kgate's Kafka ports, Services target them, load balancers listen where kgate advertises`, () => {
    const manifests = variantManifests(variant);
    const config = kgateConfig(podEnvironment(manifests));
    const c = container(manifests);
    const ports = config.listeners.map(kafkaPorts);
    for (const [i, { listen }] of ports.entries()) {
      assert.ok(
        listen.length > 0,
        `${config.listeners[i].name}: the port count must be set so that the ports can be listed`,
      );
    }
    const listen = ports.flatMap((p) => p.listen).sort();
    const declared = c.ports.map((p: Json) => p.containerPort).filter((p: number) => p !== config.httpPort)
      .sort();
    assert.deepEqual(declared, listen, "container ports differ from the Kafka ports kgate listens on");
    let loadBalancers = 0;
    const podLabels = only(manifests, "StatefulSet").spec.template.metadata.labels;
    for (const service of manifests.filter((m) => m.doc.kind === "Service").map((m) => m.doc)) {
      for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(podLabels[key], value);
      for (const port of service.spec.ports ?? []) {
        assert.ok(
          containerPort(c, port.targetPort ?? port.port),
          `${service.metadata.name}: ${port.name} targets no container port`,
        );
      }
      if (service.spec.type === "LoadBalancer") {
        // It fronts one listener: it listens on that listener's advertised ports, each forwarded to the
        // port kgate listens on for it.
        loadBalancers++;
        const served = service.spec.ports.map((p: Json) => [p.port, containerPort(c, p.targetPort ?? p.port)])
          .sort((a: number[], b: number[]) => a[0] - b[0]);
        const listener = ports.find(({ listen, advertised }) =>
          JSON.stringify(served) === JSON.stringify(advertised.map((port, i) => [port, listen[i]]))
        );
        assert.ok(
          listener,
          `${service.metadata.name} (${
            JSON.stringify(served)
          }) does not forward a listener's advertised ports`,
        );
      }
    }
    assert.equal(loadBalancers, LOAD_BALANCED.has(variant) ? 1 : 0, "LoadBalancer Services");
  });

  Deno.test(`${variant}: spread over zones, GATEWAY_RACK_ID from the zone, PDB over the pods`, () => {
    const manifests = variantManifests(variant);
    const statefulSet = only(manifests, "StatefulSet");
    assert.equal(statefulSet.spec.replicas, 3);
    const zone = statefulSet.spec.template.spec.topologySpreadConstraints
      .find((t: Json) => t.topologyKey === "topology.kubernetes.io/zone");
    assert.equal(zone?.whenUnsatisfiable, "DoNotSchedule");
    assert.equal(zone?.maxSkew, 1);
    const rack = container(manifests).env.find((e: Json) => e.name === "GATEWAY_RACK_ID");
    assert.equal(rack?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['topology.kubernetes.io/zone']");
    const pdb = only(manifests, "PodDisruptionBudget");
    for (const [key, value] of Object.entries(pdb.spec.selector.matchLabels)) {
      assert.equal(statefulSet.spec.template.metadata.labels[key], value);
    }
    const namespace = only(manifests, "Namespace").metadata.name;
    for (const { file, doc } of manifests) {
      if (doc.kind !== "Namespace") {
        assert.equal(doc.metadata.namespace, namespace, `${file}: ${doc.kind} namespace`);
      }
    }
  });
}
