/**
 * The part of kustomize the deploy base uses, to render it offline in tests (no kubectl on a clean machine): its
 * resources (multi-document YAML), `labels` (metadata only, as `includeSelectors: false` says), a `namespace`, and
 * `configMapGenerator` from literals and files with `disableNameSuffixHash`. Anything else in the kustomization is
 * refused by name, so the base cannot grow a feature this renderer would silently drop.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments, parse } from 'yaml'

export interface K8sObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  [key: string]: unknown
}

interface Kustomization {
  apiVersion?: string
  kind?: string
  namespace?: string
  resources?: string[]
  labels?: { pairs: Record<string, string>; includeSelectors?: boolean }[]
  configMapGenerator?: { name: string; literals?: string[]; files?: string[] }[]
  generatorOptions?: { disableNameSuffixHash?: boolean }
}

const KNOWN = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'labels',
  'configMapGenerator',
  'generatorOptions',
])

export const renderKustomization = (dir: string): K8sObject[] => {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as Kustomization
  const unknown = Object.keys(k).filter((key) => !KNOWN.has(key))
  if (unknown.length > 0) throw new Error(`kustomization.yaml: this renderer does not know ${unknown.join(', ')}`)
  if (k.generatorOptions?.disableNameSuffixHash !== true && (k.configMapGenerator ?? []).length > 0)
    throw new Error('kustomization.yaml: generated names with a hash suffix are not rendered here')
  if ((k.labels ?? []).some((l) => l.includeSelectors === true))
    throw new Error('kustomization.yaml: labels with includeSelectors are not rendered here')

  const objects: K8sObject[] = []
  for (const file of k.resources ?? []) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`)
      const object = doc.toJS() as K8sObject | null
      if (object !== null) objects.push(object)
    }
  }
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {}
    for (const literal of g.literals ?? []) {
      const at = literal.indexOf('=')
      if (at < 1) throw new Error(`configMapGenerator ${g.name}: '${literal}' is not KEY=value`)
      data[literal.slice(0, at)] = literal.slice(at + 1)
    }
    for (const file of g.files ?? []) data[file] = readFileSync(join(dir, file), 'utf8')
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data })
  }
  for (const o of objects) {
    for (const l of k.labels ?? []) o.metadata.labels = { ...o.metadata.labels, ...l.pairs }
    if (k.namespace !== undefined) o.metadata.namespace = k.namespace
  }
  return objects
}
