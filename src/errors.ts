/**
 * Typed errors with stable codes. The code -> HTTP status mapping lives here and nowhere else;
 * the error handler plugin only asks `httpStatusOf`.
 */
export const ERROR_STATUS = {
  INVALID_JSON: 400,
  INVALID_PARAM: 400,
  MISSING_PARAM: 400,
  UNKNOWN_PARAM: 400,
  INVALID_INDICATOR: 400,
  UNKNOWN_SOURCE: 400,
  UNKNOWN_VARIABLE: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly code: ErrorCode
  /** The request field the error is about (e.g. "indicator[2]"), when there is one. */
  readonly field: string | undefined

  constructor(code: ErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AppError'
    this.code = code
    this.field = field
  }

  get statusCode(): number {
    return ERROR_STATUS[this.code]
  }
}

export const httpStatusOf = (code: ErrorCode): number => ERROR_STATUS[code]

/** Why a source could not answer. Reported per source in sources.failed / sources.skipped, never thrown to the caller. */
export const SOURCE_FAILURE_KINDS = [
  'timeout',
  'rate_limited',
  'auth',
  'circuit_open',
  'bad_answer',
  'network',
  'http_error',
  'too_large',
  'cancelled',
  'not_configured',
  'internal',
] as const
export type SourceFailureKind = (typeof SOURCE_FAILURE_KINDS)[number]

export class SourceError extends Error {
  readonly kind: SourceFailureKind
  /** True when the source was not tried at all (e.g. circuit open, rate-limit wait too long): it is then "skipped". */
  readonly skipped: boolean

  constructor(kind: SourceFailureKind, message: string, options?: { cause?: unknown; skipped?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SourceError'
    this.kind = kind
    this.skipped = options?.skipped ?? false
  }
}

/** A broken app.config.json / layout.json: names the file, the entry and the rule. Stops start-up. */
export class ContractError extends Error {
  readonly problems: readonly ContractProblem[]
  constructor(problems: readonly ContractProblem[]) {
    super(
      `contract check failed (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  ${formatContractProblem(p)}`).join('\n'),
    )
    this.name = 'ContractError'
    this.problems = problems
  }
}

export interface ContractProblem {
  /** e.g. "app.config.json" or "layouts/layout.json" */
  readonly file: string
  /** e.g. "params[3] 'sources'" or "outputs 'enrich.asn.org'" */
  readonly entry: string
  /** Stable rule id, e.g. "layout-input-is-param" */
  readonly rule: string
  readonly message: string
}

export const formatContractProblem = (p: ContractProblem): string =>
  `${p.file}: ${p.entry}: ${p.message} [rule ${p.rule}]`
