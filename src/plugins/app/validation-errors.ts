/**
 * Schema validation failures -> one clear AppError naming the field. Messages are built from the param's own
 * declaration in app.config.json (its type, valid values, limits), so they stay true when the contract changes.
 */
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import { AppError } from '../../errors.js'
import { choiceValues, type RequestLimits } from '../../contract/request-schema.js'
import type { AppConfig, Param } from '../../contract/types.js'
import { INDICATOR_TYPES } from '../../indicators/types.js'

const fieldOf = (e: FastifySchemaValidationError): string => {
  const parts = e.instancePath.split('/').slice(1)
  const [name, ...rest] = parts
  return `${name ?? ''}${rest.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('')}`
}

const stringify = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    // Too deep (or otherwise unprintable): the message still names the field and the problem.
    return Array.isArray(v) ? '[...]' : '{...}'
  }
}

const show = (v: unknown): string => {
  const text = typeof v === 'string' ? `'${v}'` : stringify(v)
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const describeParam = (param: Param, value: unknown, config: AppConfig, limits: RequestLimits): AppError => {
  const name = param.name
  // A secret's value is never echoed, not even a mistyped one: replies and logs carry the message.
  if (param.encrypt)
    return new AppError('INVALID_PARAM', `${name} must be a string (its value is not shown: it is a secret)`, name)
  switch (param.type) {
    case 'Boolean':
      return new AppError('INVALID_PARAM', `${name} must be true or false, got ${show(value)}`, name)
    case 'Choice':
      return new AppError(
        'INVALID_PARAM',
        `${name} must be one of ${choiceValues(param).join(', ')}; got ${show(value)}`,
        name,
      )
    case 'MultiChoice': {
      const known = choiceValues(param)
      const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(config.listDelimiter) : null
      if (items === null) {
        return new AppError(
          'INVALID_PARAM',
          `${name} must be a list of ids or one '${config.listDelimiter}'-joined string`,
          name,
        )
      }
      const unknown = items.filter((v) => typeof v !== 'string' || !known.includes(v))
      if (unknown.length > 0) {
        const code = name === 'sources' ? 'UNKNOWN_SOURCE' : 'INVALID_PARAM'
        const what = name === 'sources' ? 'source' : 'value'
        return new AppError(
          code,
          `unknown ${what}${unknown.length > 1 ? 's' : ''} ${unknown.map(show).join(', ')} in ${name} (known: ${known.join(', ')})`,
          name,
        )
      }
      if (items.length === 0) return new AppError('INVALID_PARAM', `${name} must name at least one value`, name)
      return new AppError('INVALID_PARAM', `${name} lists a value twice`, name)
    }
    default: {
      const many = param.playbookDataType?.includes('StringArray') ?? false
      if (Array.isArray(value)) {
        if (!many) return new AppError('INVALID_PARAM', `${name} must be a string, not an array`, name)
        if (value.length === 0) return new AppError('INVALID_PARAM', `${name} must not be an empty array`, name)
        if (value.length > limits.maxIndicators) {
          return new AppError(
            'INVALID_PARAM',
            `${name} has ${value.length} items; at most ${limits.maxIndicators} are accepted`,
            name,
          )
        }
        const bad = value.findIndex(
          (v) => !isEntity(v) && (typeof v !== 'string' || v.length === 0 || v.length > limits.maxIndicatorLength),
        )
        if (bad >= 0) return describeItem(`${name}[${bad}]`, value[bad], limits)
        const badEntity = value.findIndex((v) => typeof v === 'object' && v !== null)
        if (badEntity >= 0) return describeItem(`${name}[${badEntity}]`, value[badEntity], limits)
      }
      if (typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value)))
        return describeItem(name, value, limits)
      return new AppError(
        'INVALID_PARAM',
        `${name} must be a string${many ? ' or an array of strings' : ''}, got ${show(value)}`,
        name,
      )
    }
  }
}

const isEntity = (v: unknown): boolean => {
  if (typeof v !== 'object' || v === null) return false
  const e = v as { type?: unknown; value?: unknown }
  return (INDICATOR_TYPES as readonly unknown[]).includes(e.type) && typeof e.value === 'string' && e.value !== ''
}

const describeItem = (field: string, value: unknown, limits: RequestLimits): AppError => {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const e = value as { type?: unknown; value?: unknown }
    if (!(INDICATOR_TYPES as readonly unknown[]).includes(e.type)) {
      return new AppError(
        'INVALID_PARAM',
        `${field} is an entity whose type ${show(e.type)} is not one of ${INDICATOR_TYPES.join(', ')}`,
        field,
      )
    }
    if (typeof e.value !== 'string' || e.value === '')
      return new AppError('INVALID_PARAM', `${field} is an entity without a string value`, field)
    return describeItem(field, e.value, limits)
  }
  if (typeof value !== 'string')
    return new AppError('INVALID_PARAM', `${field} must be a string, got ${show(value)}`, field)
  if (value.length === 0) return new AppError('INVALID_PARAM', `${field} must not be empty`, field)
  return new AppError(
    'INVALID_PARAM',
    `${field} is ${value.length} characters long; at most ${limits.maxIndicatorLength} are accepted`,
    field,
  )
}

export const validationToAppError = (
  errors: readonly FastifySchemaValidationError[],
  body: unknown,
  config: AppConfig,
  limits: RequestLimits,
): AppError => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new AppError('INVALID_PARAM', 'the body must be a JSON object of params, e.g. {"indicator": "8.8.8.8"}', '')
  }
  const first = errors[0]
  if (!first) return new AppError('INVALID_PARAM', 'the body does not match the params of this app', '')
  if (first.keyword === 'required') {
    const name = String((first.params as { missingProperty?: string }).missingProperty ?? '')
    return new AppError('MISSING_PARAM', `${name} is required`, name)
  }
  if (first.keyword === 'additionalProperties') {
    const name = String((first.params as { additionalProperty?: string }).additionalProperty ?? '')
    const known = config.params.map((p) => p.name).join(', ')
    return new AppError('UNKNOWN_PARAM', `'${name}' is not a param of this app (params: ${known})`, name)
  }
  const field = fieldOf(first)
  const name = field.split(/[.[]/)[0] ?? ''
  const param = config.params.find((p) => p.name === name)
  if (!param) return new AppError('INVALID_PARAM', `${field || 'body'} ${first.message ?? 'is not valid'}`, field)
  return describeParam(param, (body as Record<string, unknown>)[name], config, limits)
}

/**
 * Any route but /run (whose messages come from the contract's params): the first failure, naming the field as the
 * request has it (`to[1]`, `subject`, `state`), with the schema's own words.
 */
export const genericValidationError = (errors: readonly FastifySchemaValidationError[]): AppError => {
  const first = errors[0]
  if (!first) return new AppError('INVALID_PARAM', 'the request does not match its schema', '')
  const params = first.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] }
  if (first.keyword === 'required' && params.missingProperty !== undefined) {
    return new AppError('MISSING_PARAM', `${params.missingProperty} is required`, params.missingProperty)
  }
  if (first.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    return new AppError(
      'UNKNOWN_PARAM',
      `'${params.additionalProperty}' is not a field of this request`,
      params.additionalProperty,
    )
  }
  const field = fieldOf(first)
  const allowed = params.allowedValues !== undefined ? ` (one of ${params.allowedValues.map(String).join(', ')})` : ''
  return new AppError('INVALID_PARAM', `${field || 'the request'} ${first.message ?? 'is not valid'}${allowed}`, field)
}
