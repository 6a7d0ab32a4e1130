/**
 * Typed errors with stable codes. The code -> HTTP status mapping lives here and nowhere else;
 * the error handler plugin only asks `httpStatusOf`.
 */
export const ERRORS = {
  INVALID_JSON: { status: 400, help: 'The body is not valid JSON. Check quoting and commas.' },
  INVALID_PARAM: {
    status: 400,
    help: 'A param has the wrong type or value; `field` names it and the message says what is allowed.',
  },
  MISSING_PARAM: { status: 400, help: 'A required param (e.g. `indicator`) is missing.' },
  UNKNOWN_PARAM: {
    status: 400,
    help: 'The body has a field that is not a param of the app (often a typo); the message lists the params.',
  },
  INVALID_INDICATOR: {
    status: 400,
    help: 'The indicator is not of the given type, or of no known type; `field` is `indicator` or `indicator[i]`.',
  },
  UNKNOWN_SOURCE: {
    status: 400,
    help: '`sources` names a source this service does not have; the message lists the known ones.',
  },
  UNKNOWN_PROFILE: {
    status: 400,
    help: '`tc_profile` names a ThreatConnect profile the service is not configured with (TC_PROFILES); leave it empty for the default one.',
  },
  UNAUTHORIZED: {
    status: 401,
    help: 'RUN_TOKEN is set and the request has no or a wrong `Authorization: Bearer` token.',
  },
  ALERTS_LOCKED: {
    status: 403,
    help: 'The /alerts routes need their own token: set ALERTS_TOKEN and send `Authorization: Bearer <ALERTS_TOKEN>` (not the RUN_TOKEN).',
  },
  NOT_FOUND: { status: 404, help: 'No such route; see GET /docs.' },
  ALERTS_OFF: {
    status: 404,
    help: 'The alert service (or the notifier asked for) is not configured: ALERTS_CONFIG, and for e-mail SMTP_URL and ALERT_EMAIL_FROM; see docs/user-guide.md, "Alerts".',
  },
  METHOD_NOT_ALLOWED: { status: 405, help: 'The route exists but not for this method.' },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    help: 'This Idempotency-Key was used for another request; a repeat must carry the same body (or use a new key).',
  },
  STATUS_LOCKED: {
    status: 403,
    help: 'GET /status.json from a client that is not on this machine needs STATUS_TOKEN set on the service and sent as `Authorization: Bearer <STATUS_TOKEN>`.',
  },
  HOST_NOT_ALLOWED: {
    status: 421,
    help: "The Host header names neither a loopback name nor PUBLIC_URL's host: refused, as a page rebinding its own name to this address would be.",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    help: 'The body is over BODY_LIMIT bytes; send fewer indicators per call or raise the limit.',
  },
  BATCH_TOO_LARGE: {
    status: 413,
    help: 'The run would make more vendor lookups (indicators x vendor sources) than MAX_VENDOR_LOOKUPS; the message says how many indicators fit.',
  },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, help: 'Send `Content-Type: application/json`.' },
  TOO_MANY_REQUESTS: {
    status: 429,
    help: "Too many calls (RUN_RATE_LIMIT, ALERTS_API_RATE_LIMIT, AUTH_FAILURE_LIMIT, or a notifier's pacing); wait for Retry-After.",
  },
  INTERNAL: { status: 500, help: 'A bug: the reply carries a request id; the service log has the details under it.' },
  UNAVAILABLE: { status: 503, help: 'The service is starting or stopping.' },
} as const

export const ERROR_STATUS = Object.fromEntries(Object.entries(ERRORS).map(([code, e]) => [code, e.status])) as {
  readonly [K in keyof typeof ERRORS]: (typeof ERRORS)[K]['status']
}

export type ErrorCode = keyof typeof ERRORS

/** Most characters an error's message and field may carry: they quote the request, and go to replies and logs. */
const MAX_MESSAGE_CHARS = 512
const MAX_FIELD_CHARS = 128

/** `text` cut to `max` characters, saying how much was left out. */
const capText = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`

export class AppError extends Error {
  readonly code: ErrorCode
  /** The request field the error is about (e.g. "indicator[2]"), when there is one. */
  readonly field: string | undefined

  constructor(code: ErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    // One place caps what an error quotes from the request (a 500 KB unknown key must not make a 1 MB reply).
    super(capText(message, MAX_MESSAGE_CHARS), options)
    this.name = 'AppError'
    this.code = code
    this.field = field === undefined ? undefined : capText(field, MAX_FIELD_CHARS)
  }

  get statusCode(): number {
    return ERROR_STATUS[this.code]
  }
}

export const httpStatusOf = (code: ErrorCode): number => ERROR_STATUS[code]

/**
 * Why a source could not answer. Reported per source in sources.failed / sources.skipped, never thrown to the caller.
 */
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
