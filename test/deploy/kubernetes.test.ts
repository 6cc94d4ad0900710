// The Kubernetes manifests under deploy/kubernetes/ (docs/deployment.md): every file parses as YAML
// (the `yaml` package), every document names its kind and object, the slimtrace configuration in
// each ConfigMap passes the real validator (resolveServeConfig, src/pipeline/config.ts) with the
// role the workload mounting it runs, and the pieces fit together: mounted ConfigMaps and Secrets
// exist, container ports are the ports the configuration listens on, probes hit a served port, and
// the agents' gateway URLs name the gateway StatefulSet's replicas through its headless Service.
// Also the configuration reference of docs/deployment.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resolveServeConfig, type ServeConfig } from '../../src/pipeline/index.js';

const dir = resolve(import.meta.dirname, '../../deploy/kubernetes');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: Record<string, unknown>;
}

interface Container {
  name: string;
  args?: string[];
  ports?: { containerPort: number; hostPort?: number }[];
  readinessProbe?: { httpGet?: { port: number; path: string } };
  livenessProbe?: { httpGet?: { port: number; path: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  containers: Container[];
  volumes?: { name: string; configMap?: { name: string }; secret?: { secretName: string }; emptyDir?: unknown; hostPath?: unknown }[];
}

function load(): { file: string; obj: K8sObject }[] {
  const out: { file: string; obj: K8sObject }[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file}: ${doc.errors.join('; ')}`);
      out.push({ file, obj: doc.toJS() as K8sObject });
    }
  }
  return out;
}

const objects = load();
const workloads = objects.filter(({ obj }) => ['DaemonSet', 'StatefulSet', 'Deployment'].includes(obj.kind));
const podOf = (obj: K8sObject): PodSpec => (obj.spec as { template: { spec: PodSpec } }).template.spec;
const find = (kind: string, name: string) => objects.find(({ obj }) => obj.kind === kind && obj.metadata.name === name)?.obj;

/** The configuration a workload mounts at /etc/slimtrace/config.yaml, validated for real. */
function configOf(obj: K8sObject): ServeConfig {
  const pod = podOf(obj);
  const mount = pod.containers[0]!.volumeMounts!.find((m) => m.mountPath === '/etc/slimtrace/config.yaml')!;
  const volume = pod.volumes!.find((v) => v.name === mount.name)!;
  const cm = find('ConfigMap', volume.configMap!.name)!;
  return resolveServeConfig(parseAllDocuments(cm.data!['config.yaml']!)[0]!.toJS(), {}, `${cm.metadata.name}/config.yaml`);
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  it('the configuration reference in docs/deployment.md passes the validator', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/deployment.md'), 'utf8');
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^role: /m.test(b));
    assert.equal(blocks.length, 2, 'an agent and a gateway block');
    for (const b of blocks) resolveServeConfig(parseAllDocuments(b)[0]!.toJS(), {}, 'docs/deployment.md');
  });

  it('every document parses and names its apiVersion, kind, object and namespace', () => {
    assert.ok(objects.length >= 8, `${objects.length} objects`);
    for (const { file, obj } of objects) {
      assert.ok(obj.apiVersion && obj.kind && obj.metadata?.name, `${file}: ${JSON.stringify(obj).slice(0, 100)}`);
      if (obj.kind !== 'Namespace') assert.equal(obj.metadata.namespace, 'observability', `${file} ${obj.kind}/${obj.metadata.name}`);
    }
    for (const kind of ['DaemonSet', 'StatefulSet', 'Deployment', 'Service', 'ConfigMap', 'Secret']) assert.ok(objects.some(({ obj }) => obj.kind === kind), `a ${kind}`);
  });

  it('the slimtrace configuration in every ConfigMap passes the real validator', () => {
    const maps = objects.filter(({ obj }) => obj.kind === 'ConfigMap');
    assert.ok(maps.length >= 3);
    for (const { file, obj } of maps) {
      const text = obj.data?.['config.yaml'];
      assert.ok(text, `${file}: ConfigMap ${obj.metadata.name} holds config.yaml`);
      const config = resolveServeConfig(parseAllDocuments(text)[0]!.toJS(), {}, `${obj.metadata.name}/config.yaml`);
      assert.ok(config.bearerTokenFile, `${obj.metadata.name}: agents and gateways authenticate`);
      assert.equal(config.listen.host, '0.0.0.0', `${obj.metadata.name}: listens on the pod's interfaces`);
    }
  });

  it('each workload runs `serve --config` on a ConfigMap of its role, with its mounts, ports and probes in place', () => {
    assert.ok(workloads.length >= 3);
    for (const { file, obj } of workloads) {
      const pod = podOf(obj);
      const c = pod.containers[0]!;
      assert.deepEqual(c.args, ['serve', '--config', '/etc/slimtrace/config.yaml'], file);
      for (const m of c.volumeMounts ?? []) {
        const v = pod.volumes?.find((x) => x.name === m.name);
        const claimed = ((obj.spec as { volumeClaimTemplates?: { metadata: { name: string } }[] }).volumeClaimTemplates ?? []).some((t) => t.metadata.name === m.name);
        assert.ok(v || claimed, `${file}: volume ${m.name} is defined`);
        if (v?.configMap) assert.ok(find('ConfigMap', v.configMap.name), `${file}: ConfigMap ${v.configMap.name} exists`);
        if (v?.secret) assert.ok(find('Secret', v.secret.secretName), `${file}: Secret ${v.secret.secretName} exists`);
      }
      const config = configOf(obj);
      assert.equal(config.role, obj.kind === 'DaemonSet' ? 'agent' : 'gateway', `${file}: ${obj.kind} runs the right role`);
      const ports = (c.ports ?? []).map((p) => p.containerPort);
      assert.ok(ports.includes(config.listen.port), `${file}: port ${config.listen.port} exposed`);
      if (config.grpc) assert.ok(ports.includes(config.grpc.port), `${file}: gRPC port ${config.grpc.port} exposed`);
      for (const probe of [c.readinessProbe, c.livenessProbe]) if (probe?.httpGet) assert.equal(probe.httpGet.port, config.listen.port, `${file}: probe on the served port`);
      // The queue directory is on a volume, not in the container's writable layer.
      assert.ok((c.volumeMounts ?? []).some((m) => config.queue.dir.startsWith(m.mountPath)), `${file}: queue ${config.queue.dir} on a volume`);
      const grace = (obj.spec as { template: { spec: { terminationGracePeriodSeconds?: number } } }).template.spec.terminationGracePeriodSeconds ?? 30;
      assert.ok(grace * 1000 > config.shutdownTimeoutMs, `${file}: the grace period outlasts shutdown_timeout`);
    }
  });

  it("the agents' gateway URLs are the StatefulSet's replicas behind its headless Service", () => {
    const agent = configOf(workloads.find(({ obj }) => obj.kind === 'DaemonSet')!.obj);
    const sts = find('StatefulSet', 'slimtrace-gateway')!;
    const spec = sts.spec as { serviceName: string; replicas: number };
    const svc = find('Service', spec.serviceName)!;
    assert.equal((svc.spec as { clusterIP?: string }).clusterIP, 'None', 'headless');
    const gatewayPort = configOf(sts).listen.port;
    const wanted = Array.from({ length: spec.replicas }, (_, i) => `http://${sts.metadata.name}-${i}.${spec.serviceName}.${sts.metadata.namespace}.svc:${gatewayPort}`);
    assert.deepEqual(agent.gateways, wanted);
  });
});
