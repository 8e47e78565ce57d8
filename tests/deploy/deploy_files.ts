/**
 * Reads the deployment files of deploy/ for the tests in tests/deploy/: the Kubernetes manifests (YAML), the
 * environment a variant's pod gets, and the kgate setting names a file mentions.
 *
 * @module
 */
import { parseAllDocuments } from "yaml";
import { LISTENER_PREFIX, LISTENER_SUFFIXES } from "../../src/config/listeners.ts";
import { SETTINGS } from "../../src/config/schema.ts";

/** The repository root, with a trailing slash. */
export const REPO: string = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** deploy/kubernetes/ (absolute). */
export const KUBERNETES_DIR = `${REPO}deploy/kubernetes`;

/** The variant directories: each is applied together with common/. */
export const VARIANTS = ["internal-lb", "external-lb", "sni", "two-listeners"] as const;

/** One variant of the Kubernetes deployment. */
export type Variant = typeof VARIANTS[number];

// deno-lint-ignore no-explicit-any
type Json = any;

/** One Kubernetes object and the file it comes from (relative to the repository root). */
export interface Manifest {
  file: string;
  doc: Json;
}

/** Every YAML file under deploy/kubernetes/, sorted, relative to the repository root. */
export function manifestFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${REPO}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (/\.ya?ml$/.test(entry.name)) files.push(path);
    }
  };
  walk("deploy/kubernetes");
  return files.sort();
}

/** The objects of one manifest file; a YAML error throws naming the file. */
export function loadManifest(file: string): Manifest[] {
  const documents = parseAllDocuments(Deno.readTextFileSync(`${REPO}${file}`));
  if (!Array.isArray(documents)) throw new Error(`${file}: not a YAML stream`);
  return documents.flatMap((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
    const doc = document.toJS();
    return doc === null || doc === undefined ? [] : [{ file, doc }];
  });
}

/** The objects of common/ and of one variant. */
export function variantManifests(variant: Variant): Manifest[] {
  return manifestFiles()
    .filter((file) =>
      file.startsWith("deploy/kubernetes/common/") || file.startsWith(`deploy/kubernetes/${variant}/`)
    )
    .flatMap(loadManifest);
}

/** The one object of `kind` (and `name`, when given); throws when there is not exactly one. */
export function only(manifests: Manifest[], kind: string, name?: string): Json {
  const found = manifests.filter((m) =>
    m.doc.kind === kind && (name === undefined || m.doc.metadata?.name === name)
  );
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length}`);
  }
  return found[0].doc;
}

/** What the downward API gives the test pod: pod `pod` (kgate-0) in namespace `namespace`, zone `zone-a`. */
export function downwardValue(fieldPath: string, namespace: string, pod = "kgate-0"): string {
  const values: Record<string, string> = {
    "metadata.name": pod,
    "metadata.namespace": namespace,
    "metadata.labels['topology.kubernetes.io/zone']": "zone-a",
    "status.podIP": "10.0.0.10",
  };
  const value = values[fieldPath];
  if (value === undefined) throw new Error(`the test does not know the downward API field ${fieldPath}`);
  return value;
}

/**
 * The environment the StatefulSet's container `kgate` gets, as Kubernetes builds it: envFrom ConfigMaps and
 * Secrets first, then `env` in order, with `$(VAR)` references to earlier variables expanded; `pod` is the
 * pod's name (the StatefulSet's pods are kgate-0, kgate-1, ...).
 */
export function podEnvironment(manifests: Manifest[], pod = "kgate-0"): Record<string, string> {
  const statefulSet = only(manifests, "StatefulSet");
  const namespace: string = statefulSet.metadata.namespace;
  const container = statefulSet.spec.template.spec.containers.find((c: Json) => c.name === "kgate");
  if (!container) throw new Error("the StatefulSet has no container named kgate");
  const env: Record<string, string> = {};
  const configMapData = (name: string) => only(manifests, "ConfigMap", name).data ?? {};
  const secretData = (name: string): Record<string, string> => {
    const secret = only(manifests, "Secret", name);
    const decoded = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, atob(String(v))]),
    );
    return { ...decoded, ...(secret.stringData ?? {}) };
  };
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMapData(source.configMapRef.name));
    else if (source.secretRef) Object.assign(env, secretData(source.secretRef.name));
    else throw new Error(`unknown envFrom source ${JSON.stringify(source)}`);
  }
  for (const variable of container.env ?? []) {
    if (typeof variable.value === "string") {
      env[variable.name] = variable.value.replace(
        /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
        (whole: string, name: string) => env[name] ?? whole,
      );
    } else if (variable.valueFrom?.fieldRef) {
      env[variable.name] = downwardValue(variable.valueFrom.fieldRef.fieldPath, namespace, pod);
    } else if (variable.valueFrom?.configMapKeyRef) {
      env[variable.name] =
        configMapData(variable.valueFrom.configMapKeyRef.name)[variable.valueFrom.configMapKeyRef.key];
    } else if (variable.valueFrom?.secretKeyRef) {
      env[variable.name] =
        secretData(variable.valueFrom.secretKeyRef.name)[variable.valueFrom.secretKeyRef.key];
    } else {
      throw new Error(`the test does not know how to resolve env ${JSON.stringify(variable)}`);
    }
  }
  return env;
}

/** The names of kgate's settings (environment variables), from src/config/schema.ts. */
export const SETTING_NAMES: ReadonlySet<string> = new Set(SETTINGS.map((s) => s.env));

const LISTENER_VARIABLE = new RegExp(`^${LISTENER_PREFIX}[A-Z0-9]+_(?:${LISTENER_SUFFIXES.join("|")})$`);

/**
 * Whether `name` is a kgate setting: one of src/config/schema.ts, or a listener variable
 * `GATEWAY_LISTENER_<NAME>_<SUFFIX>` (NAME of upper-case letters and digits, SUFFIX one of
 * src/config/listeners.ts's).
 */
export function isSettingName(name: string): boolean {
  return SETTING_NAMES.has(name) || LISTENER_VARIABLE.test(name);
}

/** The settings that are secrets (never in a ConfigMap). */
export const SECRET_SETTING_NAMES: ReadonlySet<string> = new Set(
  SETTINGS.filter((s) => s.secret).map((s) => s.env),
);

/** Every `GATEWAY_*` / `KAFKA_*` name in a text (values, keys and comments alike). */
export function mentionedSettingNames(text: string): string[] {
  return [...new Set(text.match(/\b(?:GATEWAY|KAFKA)_[A-Z0-9_]*[A-Z0-9]\b/g) ?? [])].sort();
}
