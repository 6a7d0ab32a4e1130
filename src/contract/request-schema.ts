/**
 * Derives the POST /run body schema from app.config.json params, so params are declared once: required ones,
 * Choice values as enums, Booleans (true/false or "true"/"false", as the platform sends strings), MultiChoice as an
 * array of its values or one listDelimiter-joined string, StringArray-capable strings as string | string[].
 */
import { Type, type TSchema, type TObject } from 'typebox'
import type { AppConfig, Param } from './types.js'

export interface RequestLimits {
  readonly maxIndicators: number
  readonly maxIndicatorLength: number
}

const isSpecial = (v: string): boolean => v.startsWith('${')

export const choiceValues = (param: Param): string[] => (param.validValues ?? []).filter((v) => !isSpecial(v))

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

const paramSchema = (param: Param, config: AppConfig, limits: RequestLimits): TSchema => {
  const meta = { description: param.note ?? param.label, ...(param.default !== undefined ? { default: param.default } : {}) }
  switch (param.type) {
    case 'Boolean':
      return Type.Union([Type.Boolean(), Type.Enum(['true', 'false'])], meta)
    case 'Choice':
      return Type.Enum(choiceValues(param), meta)
    case 'MultiChoice': {
      const values = choiceValues(param)
      const one = `(${values.map(escapeRegex).join('|')})`
      const joined = `^${one}(${escapeRegex(config.listDelimiter)}${one})*$`
      return Type.Union(
        [Type.Array(Type.Enum(values), { minItems: 1, uniqueItems: true }), Type.String({ pattern: joined })],
        meta,
      )
    }
    default: {
      const text = Type.String({ minLength: 1, maxLength: limits.maxIndicatorLength })
      const types = param.playbookDataType ?? []
      if (types.includes('StringArray')) {
        return Type.Union([text, Type.Array(text, { minItems: 1, maxItems: limits.maxIndicators })], meta)
      }
      return Type.String({ ...meta, ...(param.encrypt ? { writeOnly: true } : {}) })
    }
  }
}

export const deriveRunBodySchema = (config: AppConfig, limits: RequestLimits, extra: Record<string, TSchema> = {}): TObject => {
  const properties: Record<string, TSchema> = {}
  for (const param of config.params) {
    const schema = paramSchema(param, config, limits)
    properties[param.name] = param.required ? schema : Type.Optional(schema)
  }
  return Type.Object({ ...properties, ...extra }, { additionalProperties: false })
}
