import { Type, type Static } from 'typebox'
import { ERROR_STATUS } from '../errors.js'

/** Every error reply: a stable code, a sentence for people, the request field it is about (or ""). */
export const ErrorReply = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum(Object.keys(ERROR_STATUS)),
      message: Type.String(),
      field: Type.String({ description: 'The request field the error is about, e.g. "indicator[2]"; "" when none.' }),
      requestId: Type.String(),
    }),
  },
  { $id: 'ErrorReply' },
)
export type ErrorReply = Static<typeof ErrorReply>
