/**
 * Finds the project root (the folder holding app.config.json) from wherever the code runs: src/ under tap, dist/src/
 * after tsc.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const CONFIG_FILE = 'app.config.json'

/** `from` is a module URL (file:...) or a path; a file starts the walk at its folder. */
export const findProjectRoot = (from: string = import.meta.url): string => {
  const start = resolve(from.startsWith('file:') ? fileURLToPath(from) : from)
  let dir = existsSync(start) && statSync(start).isDirectory() ? start : dirname(start)
  for (;;) {
    if (existsSync(join(dir, CONFIG_FILE))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no ${CONFIG_FILE} found in ${start} or any folder above it`)
    dir = parent
  }
}
