/**
 * A vendor's answer checked against its declared shape (a TypeBox schema) before any field is read: the mapping then
 * reads typed fields, and an answer out of shape is a bad_answer naming the first field that does not fit.
 * Only the fields a mapping reads are declared; everything else a vendor adds passes through untouched.
 */
import { Type, type Static, type TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { SourceError } from '../errors.js'

/** A field the vendor may leave out or send as null. */
export const Maybe = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]))

/** A list of strings (vendors' tags, hostnames, ...). */
export const Strings = () => Type.Array(Type.String())

/** An optional text field as a finding keeps it: absent, null or empty is null. */
export const textOrNull = (v: string | null | undefined): string | null => (v === undefined || v === '' ? null : v)

export interface AnswerShape<T extends TSchema> {
  /** True when the value has the shape (for answers with more than one legal shape). */
  readonly fits: (value: unknown) => value is Static<T>
  /** The value, typed; a bad_answer naming the misfit field otherwise. `what` says which answer (e.g. "200"). */
  readonly read: (value: unknown, what: string) => Static<T>
}

export const answerShape = <T extends TSchema>(title: string, schema: T): AnswerShape<T> => {
  // Compiled on first use: start-up does not pay for the vendors a deployment never calls.
  let compiled:
    { Check(value: unknown): boolean; Errors(value: unknown): { instancePath: string; message: string }[] } | undefined
  const validator = () => (compiled ??= Compile(schema))
  const fits = (value: unknown): value is Static<T> => validator().Check(value)
  return {
    fits,
    read(value, what) {
      if (fits(value)) return value
      const first = validator().Errors(value)[0]
      const where = first === undefined || first.instancePath === '' ? 'the body' : first.instancePath
      throw new SourceError(
        'bad_answer',
        `${title} answered ${what} out of shape: ${where} ${first?.message ?? 'does not fit'}`,
      )
    },
  }
}
