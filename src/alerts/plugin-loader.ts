/**
 * ALERTS_CONFIG's `"plugins"`: each a module path (a relative one from the working directory) or a package name. Its
 * default export must be made with definePlugin from `tc-enrich/alerts`. A module that cannot be loaded, or exports
 * something else, is a start-up problem naming it.
 */
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isPlugin, type AlertPlugin } from './api.js'

const isPath = (spec: string): boolean => spec.startsWith('.') || isAbsolute(spec)

/** Where a plugin's module is: a path from `cwd`, or a package as Node resolves it from `cwd`. */
const urlOf = (spec: string, cwd: string): string => {
  if (isPath(spec)) return pathToFileURL(resolve(cwd, spec)).href
  try {
    return pathToFileURL(createRequire(join(cwd, 'package.json')).resolve(spec)).href
  } catch {
    // An ESM-only package (no "require" condition): Node resolves it from this module's place.
    return spec
  }
}

export const loadPlugins = async (
  specs: readonly string[],
  cwd: string,
): Promise<{ plugins: Array<{ name: string; plugin: AlertPlugin }>; problems: string[] }> => {
  const plugins: Array<{ name: string; plugin: AlertPlugin }> = []
  const problems: string[] = []
  for (const [i, spec] of specs.entries()) {
    const name = `plugins[${i}] ('${spec.slice(0, 200)}')`
    let module: { default?: unknown }
    try {
      module = (await import(urlOf(spec, cwd))) as { default?: unknown }
    } catch (err) {
      problems.push(`${name}: cannot be loaded: ${(err as Error).message.split('\n')[0]?.slice(0, 300) ?? ''}`)
      continue
    }
    if (!isPlugin(module.default))
      problems.push(`${name}: its default export is not a plugin (export default definePlugin({ ... }))`)
    else plugins.push({ name, plugin: module.default })
  }
  return { plugins, problems }
}
