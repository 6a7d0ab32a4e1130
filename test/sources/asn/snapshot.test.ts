import t from 'tap'
import { copyFileSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseIpv4, parseIpv6 } from '../../../src/datasets/ip-address.js'
import { loadRangeFile } from '../../../src/datasets/range-csv.js'
import { lookupRange } from '../../../src/datasets/range-lookup.js'
import { StringTable } from '../../../src/datasets/string-table.js'
import { readSnapshot, snapshotKey, writeSnapshot } from '../../../src/datasets/range-snapshot.js'

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

t.test('a snapshot reads back to tables that answer exactly like the parsed ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'asn-snap-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const files = [fixture('ipv4.csv'), fixture('ipv6.csv')]
  const orgs = new StringTable()
  const v4 = await loadRangeFile(files[0]!, 4, orgs)
  const v6 = await loadRangeFile(files[1]!, 6, orgs)
  orgs.trim()
  const key = await snapshotKey(files)
  t.equal(await readSnapshot(dir, key), undefined, 'nothing there yet')
  await writeSnapshot(dir, key, [v4, v6], orgs)
  const snap = await readSnapshot(dir, key)
  if (!snap) throw new Error('no snapshot read back')
  const [r4, r6] = snap.tables
  t.same([r4?.family, r4?.size, r4?.overlaps], [4, v4.size, v4.overlaps])
  t.same([...(r4?.starts ?? [])], [...v4.starts])
  t.same([...(r6?.ends ?? [])], [...v6.ends])
  t.equal(snap.orgs.size, orgs.size)
  for (let id = 0; id < orgs.size; id++) t.equal(snap.orgs.get(id), orgs.get(id), `name ${id}`)
  for (let i = 0; i < v4.size; i++) {
    const probe = [v4.starts[i]!]
    t.same(lookupRange(r4!, probe), lookupRange(v4, probe), `IPv4 row ${i}`)
  }
  const a6 = parseIpv6('2001:db8::1')!
  t.same(lookupRange(r6!, a6), lookupRange(v6, a6))
  t.same(lookupRange(r4!, [parseIpv4('0.0.0.1')!]), lookupRange(v4, [parseIpv4('0.0.0.1')!]))
})

t.test('a changed source file or a damaged snapshot is a miss, never an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'asn-snap-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const copy = join(dir, 'ipv4.csv')
  copyFileSync(fixture('ipv4.csv'), copy)
  const orgs = new StringTable()
  const v4 = await loadRangeFile(copy, 4, orgs)
  const key = await snapshotKey([copy])
  await writeSnapshot(dir, key, [v4], orgs)
  t.ok(await readSnapshot(dir, key))
  utimesSync(copy, new Date(), new Date(Date.now() + 5000))
  t.not(await snapshotKey([copy]), key, 'a newer file has another key')
  const [bin] = readdirSync(dir).filter((f) => f.endsWith('.bin'))
  writeFileSync(join(dir, bin!), Buffer.from('garbage'))
  t.equal(await readSnapshot(dir, key), undefined, 'damaged: ignored')
})
