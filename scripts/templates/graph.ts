/** The step graph of one .pbx: ids, links, reachability and who runs before whom. */
import type { PbxExport, PbxLink } from './pbx.js'
import type { ProblemList } from './problems.js'

/** "job:11" / "trigger:1": jobs and triggers share one graph. */
export type NodeKey = `job:${number}` | `trigger:${number}`

export const jobNode = (id: number): NodeKey => `job:${id}`
export const triggerNode = (id: number): NodeKey => `trigger:${id}`

const sourceOf = (l: PbxLink): NodeKey =>
  l.sourceJobId !== undefined ? jobNode(l.sourceJobId) : triggerNode(l.sourceTriggerId ?? 0)
const targetOf = (l: PbxLink): NodeKey =>
  l.targetJobId !== undefined ? jobNode(l.targetJobId) : triggerNode(l.targetTriggerId ?? 0)

export interface StepGraph {
  /** Every node that runs before `node` on some path from a trigger (links back to a trigger excluded). */
  upstreamOf(node: NodeKey): ReadonlySet<NodeKey>
}

/** Checks ids and links; returns the graph for the variable checks. */
export const checkGraph = (pbx: PbxExport, problems: ProblemList): StepGraph => {
  const nodes = new Set<NodeKey>()
  const add = (key: NodeKey, where: string): void => {
    if (nodes.has(key))
      problems.add(where, 'duplicate-id', `id ${key.split(':')[1]} is used twice (steps and triggers share ids)`)
    nodes.add(key)
  }
  pbx.jobList.forEach((j, i) => add(jobNode(j.id), `jobList[${i}] '${j.name}'`))
  pbx.playbookTriggerList.forEach((t, i) => add(triggerNode(t.id), `playbookTriggerList[${i}] '${t.name}'`))

  const parents = new Map<NodeKey, Set<NodeKey>>()
  const seen = new Set<string>()
  let returns = 0
  pbx.playbookConnectionList.forEach((l, i) => {
    const where = `playbookConnectionList[${i}]`
    const [from, to] = [sourceOf(l), targetOf(l)]
    for (const end of [from, to])
      if (!nodes.has(end)) problems.add(where, 'unknown-link-end', `links ${end}, which is not in this export`)
    const toTrigger = l.targetTriggerId !== undefined
    if (l.isCircularOnTarget !== toTrigger)
      problems.add(where, 'circular-flag', 'isCircularOnTarget must be true exactly for a link back to a trigger')
    if (from === to) problems.add(where, 'self-link', `${from} links to itself`)
    const id = `${from}>${to}:${l.type}`
    if (seen.has(id)) problems.add(where, 'duplicate-link', `a second ${l.type} link ${from} -> ${to}`)
    seen.add(id)
    if (toTrigger) returns += 1
    else parents.set(to, (parents.get(to) ?? new Set()).add(from))
  })

  const upstream = new Map<NodeKey, Set<NodeKey>>()
  const upstreamOf = (node: NodeKey): Set<NodeKey> => {
    const known = upstream.get(node)
    if (known !== undefined) return known
    const found = new Set<NodeKey>()
    const queue = [...(parents.get(node) ?? [])]
    while (queue.length > 0) {
      const next = queue.pop() as NodeKey
      if (found.has(next)) continue
      found.add(next)
      queue.push(...(parents.get(next) ?? []))
    }
    upstream.set(node, found)
    return found
  }

  pbx.jobList.forEach((j, i) => {
    const reachable = [...upstreamOf(jobNode(j.id))].some((n) => n.startsWith('trigger:'))
    if (!reachable)
      problems.add(`jobList[${i}] '${j.name}'`, 'unreachable-step', 'no path from a trigger runs this step')
  })
  if (pbx.type === 'Component' && returns === 0) {
    problems.add(
      'playbookConnectionList',
      'no-return',
      'a component hands its outputs back through a link to its trigger; there is none',
    )
  }
  return { upstreamOf }
}
