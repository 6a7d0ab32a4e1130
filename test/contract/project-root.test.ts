import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { findProjectRoot } from '../../src/contract/project-root.js'

t.test('walks up from a module URL or a path to the folder holding app.config.json', async (t) => {
  const root = t.testdir({
    'app.config.json': '{}',
    src: { contract: { 'load.ts': '' } },
    dist: { src: { contract: { 'load.js': '' } } },
  })
  t.equal(findProjectRoot(pathToFileURL(join(root, 'src/contract/load.ts')).href), root, 'from src/ (tap)')
  t.equal(
    findProjectRoot(pathToFileURL(join(root, 'dist/src/contract/load.js')).href),
    root,
    'from dist/src/ (after tsc)',
  )
  t.equal(findProjectRoot(join(root, 'dist/src/contract')), root, 'from a folder path')
  t.equal(findProjectRoot(join(root, 'app.config.json')), root, 'from the file itself')
})

t.test('the nearest app.config.json wins', async (t) => {
  const root = t.testdir({ 'app.config.json': '{}', nested: { 'app.config.json': '{}', src: { 'x.js': '' } } })
  t.equal(findProjectRoot(join(root, 'nested/src/x.js')), join(root, 'nested'))
})

t.test('throws when no folder above holds app.config.json', async (t) => {
  // Outside the checkout (t.testdir lives inside it, under a folder that does hold the real file).
  const outside = mkdtempSync(join(tmpdir(), 'project-root-'))
  t.teardown(() => rmSync(outside, { recursive: true, force: true }))
  mkdirSync(join(outside, 'a/b'), { recursive: true })
  writeFileSync(join(outside, 'a/b/x.js'), '')
  t.throws(
    () => findProjectRoot(join(outside, 'a/b/x.js')),
    /no app\.config\.json found in .*x\.js or any folder above it/,
  )
})

t.test('by default walks up from its own module to this checkout', async (t) => {
  const root = findProjectRoot()
  t.ok(existsSync(join(root, 'app.config.json')))
  t.ok(existsSync(join(root, 'src/contract/project-root.ts')), 'the folder holding src/contract')
})
