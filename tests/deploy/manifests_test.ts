/**
 * The Kubernetes manifests of deploy/kubernetes/: valid against the Kubernetes schemas (the real validator,
 * `kubernetes-validate`, strict, offline: it carries its schemas), and right for kgate (every setting they
 * name exists, each variant's pod environment is a configuration kgate accepts, the probes hit the probe
 * routes, the drain fits the grace period, the load balancers listen where kgate advertises).
 */
import assert from "node:assert/strict";
import { readCommandLine } from "../../src/config/mod.ts";
import { KGATE_VERSION } from "../../src/version.ts";
import { makeApp } from "../http/fake_view.ts";
import { runCommand } from "../harness/process.ts";
import {
  KUBERNETES_VALIDATE_VERSION,
  kubernetesValidateCommand,
  kubernetesValidateVersion,
} from "../preflight.ts";
import {
  loadManifest,
  type Manifest,
  manifestFiles,
  mentionedSettingNames,
  only,
  podEnvironment,
  REPO,
  SECRET_SETTING_NAMES,
  SETTING_NAMES,
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

function kgateConfig(env: Record<string, string>) {
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

function kafkaPorts(env: Record<string, string>, config: { portStart: number; portCount?: number }) {
  const listen = env.GATEWAY_ROUTING_MECHANISM === "host"
    ? [config.portStart]
    : Array.from({ length: config.portCount ?? 0 }, (_, i) => config.portStart + i);
  const advertised = env.GATEWAY_ROUTING_MECHANISM === "host"
    ? [Number(env.GATEWAY_ADVERTISED_SNI_PORT ?? config.portStart)]
    : listen;
  return { listen, advertised };
}

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

Deno.test("every GATEWAY_*/KAFKA_* name in deploy/ is a kgate setting", () => {
  const unknown: string[] = [];
  const files = [
    ...manifestFiles(),
    "deploy/Containerfile",
    "deploy/systemd/kgate.service",
    "deploy/systemd/kgate.env.example",
  ];
  for (const file of files) {
    for (const name of mentionedSettingNames(Deno.readTextFileSync(`${REPO}${file}`))) {
      if (!SETTING_NAMES.has(name)) unknown.push(`${file}: ${name}`);
    }
  }
  assert.deepEqual(unknown, [], "names that are not settings of src/config/schema.ts");
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
    assert.equal(config.internalLoadBalancing, variant === "internal-lb");
    assert.equal(config.rackId, "zone-a", "GATEWAY_RACK_ID comes from the zone label");
    if (variant === "internal-lb") {
      // Each pod advertises its own name under the headless Service, which must publish not-ready pods.
      const statefulSet = only(variantManifests(variant), "StatefulSet");
      const headless = only(variantManifests(variant), "Service", statefulSet.spec.serviceName);
      assert.equal(headless.spec.clusterIP, "None");
      assert.equal(headless.spec.publishNotReadyAddresses, true);
      assert.equal(config.advertisedHost, `kgate-0.${headless.metadata.name}.kgate.svc.cluster.local`);
    }
    if (variant === "sni") {
      assert.equal(env.GATEWAY_ROUTING_MECHANISM, "host");
      assert.equal(env.GATEWAY_SECURITY_PROTOCOL, "SSL");
      // The certificate files are the mounted Secret's.
      const c = container(variantManifests(variant));
      const mount = c.volumeMounts.find((m: Json) => env.GATEWAY_SSL_CERT_FILE.startsWith(`${m.mountPath}/`));
      assert.ok(mount, "GATEWAY_SSL_CERT_FILE is not under a volume mount");
      assert.ok(env.GATEWAY_SSL_KEY_FILE.startsWith(`${mount.mountPath}/`));
      const volume = only(variantManifests(variant), "StatefulSet").spec.template.spec.volumes
        .find((v: Json) => v.name === mount.name);
      const secret = only(variantManifests(variant), "Secret", volume.secret.secretName);
      assert.equal(secret.type, "kubernetes.io/tls");
      for (const file of [env.GATEWAY_SSL_CERT_FILE, env.GATEWAY_SSL_KEY_FILE]) {
        const key = file.slice(mount.mountPath.length + 1);
        assert.ok(key in (secret.stringData ?? secret.data ?? {}), `${file}: no key ${key} in the Secret`);
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
    const env = podEnvironment(manifests);
    const config = kgateConfig(env);
    const c = container(manifests);
    const { listen, advertised } = kafkaPorts(env, config);
    assert.ok(listen.length > 0, "GATEWAY_PORT_COUNT must be set so that the ports can be listed");
    const declared = c.ports.map((p: Json) => p.containerPort).filter((p: number) => p !== config.httpPort)
      .sort();
    assert.deepEqual(declared, listen, "container ports differ from the Kafka ports kgate listens on");
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
        const ports = service.spec.ports.map((p: Json) => p.port).sort();
        assert.deepEqual(
          ports,
          advertised,
          `${service.metadata.name} does not listen on the advertised ports`,
        );
      }
    }
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
