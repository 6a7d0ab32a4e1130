/**
 * Uploads as the diff is built: entries buffered per kind of job and sent as soon as a batch is full, by count or by
 * bytes (tcex's way: 5,000 items or 75 MB per upload, both settings), so a feed of any size never sits whole in
 * memory. What each job does to an indicator's existing attributes and tags:
 * - send (Create): attributes Singleton (only the types the feed writes are replaced: Source, External Reference,
 *   Description), tags Append (nothing an analyst or another feed tagged is removed, and a tag is never doubled);
 * - deactivate (Create, `active: false`, no tags or attributes): Static and Append, so nothing is touched but the flag;
 * - delete (Delete).
 * A job that completes with errors did not land: its entries are reported and left for the next run.
 */
import type { BatchAction, BatchIndicator, BatchOutcome, BatchWriteTypes } from '../platform/batch.js'

export type JobKind = 'send' | 'deactivate' | 'delete'

const JOBS: Readonly<Record<JobKind, { readonly action: BatchAction; readonly writeTypes: BatchWriteTypes }>> = {
  send: { action: 'Create', writeTypes: { attribute: 'Singleton', tag: 'Append' } },
  deactivate: { action: 'Create', writeTypes: { attribute: 'Static', tag: 'Append' } },
  delete: { action: 'Delete', writeTypes: { attribute: 'Static', tag: 'Append' } },
}

export interface UploadEntry<M> {
  readonly indicator: BatchIndicator
  /** What the caller needs once the job landed (its key, its item). */
  readonly meta: M
}

export type Submit = (
  action: BatchAction,
  indicators: readonly BatchIndicator[],
  writeTypes: BatchWriteTypes,
) => Promise<BatchOutcome>

export interface UploaderOptions<M> {
  readonly submit: Submit
  readonly maxItems: number
  readonly maxBytes: number
  /** A job landed whole: its entries may be committed. A throw is a failure of those entries. */
  readonly landed: (kind: JobKind, entries: readonly UploadEntry<M>[]) => Promise<void>
}

export interface UploadFailure {
  readonly kind: JobKind
  readonly entries: number
  readonly why: string
}

/** The upload's envelope around the indicators (`{"indicator":[...],"group":[]}`), in bytes. */
const ENVELOPE_BYTES = 32

export class Uploader<M> {
  readonly outcomes: BatchOutcome[] = []
  readonly failures: UploadFailure[] = []
  readonly #options: UploaderOptions<M>
  readonly #buffers = new Map<JobKind, { entries: UploadEntry<M>[]; bytes: number }>()

  constructor(options: UploaderOptions<M>) {
    this.#options = options
  }

  async add(kind: JobKind, entry: UploadEntry<M>): Promise<void> {
    const size = Buffer.byteLength(JSON.stringify(entry.indicator)) + 1
    let buffer = this.#buffers.get(kind)
    if (buffer === undefined) this.#buffers.set(kind, (buffer = { entries: [], bytes: ENVELOPE_BYTES }))
    if (buffer.entries.length > 0 && buffer.bytes + size > this.#options.maxBytes) await this.#flush(kind)
    const current = this.#buffers.get(kind) as { entries: UploadEntry<M>[]; bytes: number }
    current.entries.push(entry)
    current.bytes += size
    if (current.entries.length >= this.#options.maxItems) await this.#flush(kind)
  }

  /** Sends what is still buffered. */
  async finish(): Promise<void> {
    for (const kind of [...this.#buffers.keys()]) await this.#flush(kind)
  }

  async #flush(kind: JobKind): Promise<void> {
    const buffer = this.#buffers.get(kind)
    if (buffer === undefined || buffer.entries.length === 0) return
    this.#buffers.set(kind, { entries: [], bytes: ENVELOPE_BYTES })
    const { entries } = buffer
    const job = JOBS[kind]
    let outcome: BatchOutcome
    try {
      outcome = await this.#options.submit(
        job.action,
        entries.map((e) => e.indicator),
        job.writeTypes,
      )
    } catch (err) {
      this.failures.push({ kind, entries: entries.length, why: (err as Error).message })
      return
    }
    this.outcomes.push(outcome)
    const refused = outcome.status.errorCount + outcome.status.unprocessCount
    if (refused > 0) {
      this.failures.push({
        kind,
        entries: entries.length,
        why: `${refused} of ${entries.length} refused by ThreatConnect (batch ${outcome.batchId})`,
      })
      return
    }
    try {
      await this.#options.landed(kind, entries)
    } catch (err) {
      this.failures.push({ kind, entries: entries.length, why: (err as Error).message })
    }
  }
}
