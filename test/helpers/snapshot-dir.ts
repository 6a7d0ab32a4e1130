/** Where tests keep the asn tables' snapshot: outside the project, so a test run writes nothing into node_modules. */
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const TEST_SNAPSHOT_DIR = join(tmpdir(), 'tc-enrich-test-snapshots')
