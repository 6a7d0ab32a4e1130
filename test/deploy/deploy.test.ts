/**
 * What can be checked of deploy/ without a container engine or a cluster (neither runs on these machines): the
 * Dockerfile lints clean (dockerfile-utils) and says what the image promises (two stages, a numeric non-root user,
 * the state volume, the health check, `npm start`'s command without the build); the compose file parses, names only
 * settings the service reads and images it builds or pins, runs two replicas behind one published port with Redis
 * persisting; the kustomize base renders (test/helpers/kustomize.ts) and every object validates against the
 * Kubernetes schemas (kubernetes-models, offline), with the probes, resources and securityContext the issue names.
 * Running the image's command from the deployment archive as that user is in test/package/package.test.ts.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { validate as lintDockerfile } from 'dockerfile-utils'
import { parse } from 'yaml'
import { loadAlertsFile } from '../../src/alerts/config.js'
import { alertSettingRows } from '../../src/config/alert-settings.js'
import { settingRows } from '../../src/config/env.js'
import { feedSettingRows } from '../../src/config/feed-settings.js'
import { findProjectRoot } from '../../src/contract/project-root.js'
import { FEED_IDS, feedDefinition } from '../../src/feeds/registry.js'
import { SOURCE_DEFINITIONS } from '../../src/sources/registry.js'
import { renderKustomization, type K8sObject } from '../helpers/kustomize.js'
import { dockerfileOf } from '../helpers/dockerfile.js'

const root = findProjectRoot()
const deploy = join(root, 'deploy')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
  scripts: Record<string, string>
}
const IMAGE = `tc-enrich:${pkg.version}`

/** Every environment variable the service, the feed job and the alert service read. */
const KNOWN_SETTINGS = new Set(
  [
    ...settingRows(SOURCE_DEFINITIONS),
    ...feedSettingRows(FEED_IDS.map((id) => feedDefinition(id, 'data/feed.sample.csv'))),
    ...alertSettingRows(),
  ].map((r) => r.env),
)
/** Read by compose itself (interpolation and the Redis container), not by the service. */
const COMPOSE_ONLY = new Set(['REDIS_PASSWORD'])

const dockerfile = dockerfileOf(readFileSync(join(deploy, 'Dockerfile'), 'utf8'))

t.test('the Dockerfile: lints clean and keeps its promises', async (t) => {
  const text = readFileSync(join(deploy, 'Dockerfile'), 'utf8')
  t.same(
    lintDockerfile(text).map((d) => `${d.range.start.line + 1}: ${d.message}`),
    [],
    'no problem dockerfile-utils finds',
  )
  t.ok(dockerfile.stages >= 2, 'multi-stage: the toolchain stays in the build stage')
  t.match(dockerfile.last('FROM'), /^node:20-bookworm-slim$/, 'Node 20, slim')
  t.match(dockerfile.user, { uid: /^[1-9]\d*$/ }, 'a numeric user that is not root')
  t.same(dockerfile.volumes, ['/var/lib/tc-enrich'])
  for (const [name, value] of Object.entries(dockerfile.env).filter(([, v]) => v.startsWith('/')))
    t.ok(value.startsWith('/var/lib/tc-enrich/'), `${name} writes inside the state volume`)
  for (const name of Object.keys(dockerfile.env).filter((n) => n !== 'NODE_ENV'))
    t.ok(KNOWN_SETTINGS.has(name), `ENV ${name} is a setting the service reads`)
  t.match(dockerfile.healthcheck.join(' '), /\/health'/, 'HEALTHCHECK asks GET /health')
  t.same(dockerfile.cmd, ['node', 'dist/src/server.js'])
  t.ok(
    pkg.scripts['start']?.endsWith(`&& ${dockerfile.cmd.join(' ')}`),
    "the same start as npm start, without its build (package.json's start)",
  )
  t.match(text, /npm run package/, 'the image is the deployment archive: production dependencies only')
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n')
  for (const path of ['node_modules', 'dist', 'deploy/.env', '.git'])
    t.ok(ignored.includes(path), `.dockerignore leaves out ${path}`)
})

interface ComposeService {
  image?: string
  build?: { context: string; dockerfile: string }
  deploy?: { replicas?: number }
  ports?: string[]
  environment?: Record<string, string>
  env_file?: string
  command?: string[]
  volumes?: string[]
  read_only?: boolean
  cap_drop?: string[]
  networks?: Record<string, { ipv4_address?: string }> | string[]
}

t.test('compose.yaml: two replicas behind one port, Redis persisting, only known settings', async (t) => {
  const compose = parse(readFileSync(join(deploy, 'compose.yaml'), 'utf8')) as {
    services: Record<string, ComposeService>
  }
  const { enrich, proxy, redis } = compose.services
  if (enrich === undefined || proxy === undefined || redis === undefined) throw new Error('enrich, proxy, redis')
  t.same(enrich.build, { context: '..', dockerfile: 'deploy/Dockerfile' }, 'built from this project')
  t.equal(enrich.image, IMAGE, "tagged with package.json's version")
  t.equal(enrich.deploy?.replicas, 2)
  t.notOk(enrich.ports, 'the replicas publish nothing themselves')
  t.equal(enrich.read_only, true)
  t.same(enrich.cap_drop, ['ALL'])
  for (const name of Object.keys(enrich.environment ?? {}))
    t.ok(KNOWN_SETTINGS.has(name), `environment ${name} is a setting the service reads`)
  t.equal(enrich.env_file, '.env', 'secrets from an env file')
  t.ok(readFileSync(join(root, '.gitignore'), 'utf8').split('\n').includes('deploy/.env'), 'that is never committed')
  const example = readFileSync(join(deploy, 'env.example'), 'utf8')
  for (const name of [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1] as string))
    t.ok(KNOWN_SETTINGS.has(name) || COMPOSE_ONLY.has(name), `env.example's ${name} is a known setting`)
  t.match(enrich.environment?.['REDIS_URL'], /^redis:\/\/:\$\{REDIS_PASSWORD[^}]*\}@redis:6379\/0$/)
  t.equal(enrich.environment?.['REPLICAS'], '2', 'REPLICAS says the fleet size (the quota share without Redis)')
  t.ok(enrich.environment?.['FEED_SCHEDULE'] && enrich.environment['ALERTS_CONFIG'], 'feed schedule and alerts on')

  t.same(proxy.ports, ['127.0.0.1:8080:8080'], 'one published port')
  const proxyAddress = (proxy.networks as Record<string, { ipv4_address?: string }>)['backend']?.ipv4_address
  t.equal(enrich.environment?.['TRUST_PROXY'], proxyAddress, 'the service trusts X-Forwarded-For from the proxy alone')
  const nginx = readFileSync(join(deploy, 'compose/nginx.conf'), 'utf8')
  t.match(nginx, /server enrich:8080/, 'the proxy spreads over the service replicas')
  t.match(nginx, /X-Forwarded-For/)

  t.same(redis.command?.slice(0, 3), ['redis-server', '--appendonly', 'yes'], 'Redis with its append-only file')
  t.ok(
    redis.volumes?.some((v) => v.endsWith(':/data')),
    'on a volume',
  )
  for (const [name, s] of Object.entries(compose.services))
    if (s.build === undefined) t.match(s.image, /^[a-z0-9./-]+:\d[\w.-]*$/, `${name}: a third-party image pinned`)
  const rules = enrich.volumes?.find((v) => v.includes('/etc/tc-enrich/alerts.json'))?.split(':')[0] ?? ''
  const loaded = await loadAlertsFile(join(deploy, rules), { retentionMs: 86_400_000 }, root)
  t.ok(loaded.rules.length > 0, 'the mounted alert rules load as start-up loads them')
})

type Validatable = new (data: unknown) => { validate(): void }

const modelOf = async (o: K8sObject): Promise<Validatable> => {
  const mod = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<string, Validatable>
  const model = mod[o.kind]
  if (model === undefined) throw new Error(`no model for ${o.apiVersion} ${o.kind}`)
  return model
}

interface Container {
  name: string
  image: string
  ports: { name: string; containerPort: number }[]
  env: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[]
  livenessProbe: { httpGet: { path: string; port: string } }
  readinessProbe: { httpGet: { path: string; port: string } }
  resources: { requests: Record<string, string>; limits: Record<string, string> }
  securityContext: Record<string, unknown>
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]
}

t.test('the kustomize base renders and every object validates against the Kubernetes schemas', async (t) => {
  const objects = renderKustomization(join(deploy, 'kubernetes/base'))
  t.same(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
    'ConfigMap/tc-enrich-alerts',
    'ConfigMap/tc-enrich-settings',
    'Deployment/tc-enrich',
    'PodDisruptionBudget/tc-enrich',
    'Service/tc-enrich',
  ])
  for (const o of objects) {
    const Model = await modelOf(o)
    t.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata.name} is valid`)
  }
  const Deployment = await modelOf({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } })
  t.throws(
    () => new Deployment({ metadata: { name: 'x' }, spec: { replicas: 'three' } }).validate(),
    'and the schemas do refuse a wrong object',
  )

  const byKind = (kind: string) => objects.find((o) => o.kind === kind) as K8sObject & { spec: never; data: never }
  const deployment = byKind('Deployment') as unknown as {
    spec: {
      replicas: number
      selector: { matchLabels: Record<string, string> }
      template: {
        metadata: { labels: Record<string, string> }
        spec: {
          securityContext: { runAsNonRoot: boolean; runAsUser: number; seccompProfile: { type: string } }
          containers: Container[]
          volumes: { name: string; configMap?: { name: string } }[]
        }
      }
    }
  }
  const pod = deployment.spec.template
  const [container] = pod.spec.containers
  if (container === undefined) throw new Error('no container')
  t.equal(deployment.spec.replicas, 3)
  t.equal(container.image, IMAGE, 'the image compose builds')
  t.equal(container.livenessProbe.httpGet.path, '/health/live')
  t.equal(container.readinessProbe.httpGet.path, '/health/ready')
  t.ok(
    container.ports.some((p) => p.name === container.readinessProbe.httpGet.port),
    'the probes ask the named port',
  )
  t.ok(container.resources.requests['cpu'] && container.resources.requests['memory'], 'requests')
  t.ok(container.resources.limits['memory'], 'a memory limit')
  t.match(container.securityContext, {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
  })
  t.match(pod.spec.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
  t.equal(String(pod.spec.securityContext.runAsUser), dockerfile.user.uid, "the Dockerfile's user")
  t.ok(
    container.volumeMounts.some((m) => m.mountPath === dockerfile.volumes[0]),
    "the state volume at the Dockerfile's VOLUME (the root filesystem is read-only)",
  )
  t.same(
    container.env.find((e) => e.name === 'REDIS_URL')?.valueFrom?.secretKeyRef,
    { name: 'tc-enrich-secrets', key: 'REDIS_URL' },
    'Redis named by URL, from the Secret',
  )
  t.ok(
    container.envFrom.some((e) => e.secretRef?.name === 'tc-enrich-secrets'),
    'the other secrets from the same Secret',
  )
  t.notOk(
    objects.some((o) => /redis/i.test(o.metadata.name)),
    'Redis is not bundled',
  )
  const settings = objects.find((o) => o.metadata.name === 'tc-enrich-settings') as unknown as {
    data: Record<string, string>
  }
  for (const name of [...Object.keys(settings.data), ...container.env.map((e) => e.name)])
    t.ok(KNOWN_SETTINGS.has(name), `${name} is a setting the service reads`)
  t.equal(settings.data['REPLICAS'], String(deployment.spec.replicas), 'REPLICAS says the fleet size')
  const selects = (selector: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => pod.metadata.labels[k] === v)
  t.ok(selects(deployment.spec.selector.matchLabels))
  t.ok(selects((byKind('Service') as unknown as { spec: { selector: Record<string, string> } }).spec.selector))
  t.ok(
    selects(
      (byKind('PodDisruptionBudget') as unknown as { spec: { selector: { matchLabels: Record<string, string> } } }).spec
        .selector.matchLabels,
    ),
    'the PodDisruptionBudget covers the pods',
  )
  const alerts = objects.find((o) => o.metadata.name === 'tc-enrich-alerts') as unknown as {
    data: Record<string, string>
  }
  t.ok(
    pod.spec.volumes.some((v) => v.configMap?.name === 'tc-enrich-alerts'),
    'the alert rules are mounted',
  )
  t.ok(JSON.parse(alerts.data['alerts.json'] ?? '{}').rules.length > 0)

  // Where kubectl is installed, its own kustomize must render the same objects (this machine has it; CI may not).
  const kubectl = (() => {
    try {
      return execFileSync('kubectl', ['kustomize', join(deploy, 'kubernetes/base')], { encoding: 'utf8' })
    } catch {
      return undefined
    }
  })()
  if (kubectl === undefined) t.comment('kubectl is not installed: the offline renderer alone is checked')
  else {
    const theirs = kubectl
      .split(/^---$/m)
      .map((doc) => parse(doc) as K8sObject)
      .filter(Boolean)
    t.same(
      theirs.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
      objects.map((o) => `${o.kind}/${o.metadata.name}`).sort(),
      "kubectl's kustomize renders the same objects",
    )
    for (const o of theirs)
      t.same(
        o,
        objects.find((x) => x.kind === o.kind && x.metadata.name === o.metadata.name),
        `${o.kind} identical`,
      )
  }
})
