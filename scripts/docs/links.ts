/**
 * The relative links of Markdown documents, followed: which files a set of documents reaches (so a bundle that ships
 * them ships what they link to), and which links point at nothing. Web links and in-page anchors are not followed.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'

/** The relative link targets in Markdown text (`[text](target)`), without their #anchors. */
export const relativeLinks = (markdown: string): string[] =>
  [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] ?? '').split('#')[0] ?? '')
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target))

/** Every file the documents reach through relative links (a linked folder brings its files), roots included. */
export const linkClosure = (root: string, documents: readonly string[]): { files: string[]; missing: string[] } => {
  const files = new Set<string>()
  const missing: string[] = []
  const todo = [...documents]
  const seen = new Set<string>()
  while (todo.length > 0) {
    const path = normalize(todo.pop() as string)
    if (seen.has(path)) continue
    seen.add(path)
    const full = join(root, path)
    if (!existsSync(full)) continue
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) todo.push(join(path, name))
      continue
    }
    files.add(path)
    if (!path.endsWith('.md')) continue
    for (const target of relativeLinks(readFileSync(full, 'utf8'))) {
      const linked = normalize(join(dirname(path), target))
      if (linked.startsWith('..') || !existsSync(join(root, linked))) missing.push(`${path} -> ${target}`)
      else todo.push(linked)
    }
  }
  return { files: [...files].sort(), missing }
}
