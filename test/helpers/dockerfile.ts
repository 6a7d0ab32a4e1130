/**
 * The instructions of a Dockerfile the deploy tests read (the linting itself is dockerfile-utils'): continuation
 * lines joined, comments dropped; the last stage's ENV, USER, VOLUME, HEALTHCHECK and CMD, the exec forms parsed as
 * JSON (a shell form is refused: the image's command must not need a shell).
 */
export interface DockerfileFacts {
  readonly stages: number
  /** The argument of the last instruction of this name. */
  last(instruction: string): string
  readonly env: Readonly<Record<string, string>>
  readonly user: { readonly uid: string; readonly gid: string | undefined }
  readonly volumes: readonly string[]
  readonly healthcheck: readonly string[]
  readonly cmd: readonly string[]
}

const execForm = (name: string, text: string): string[] => {
  const parsed = JSON.parse(text) as unknown
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string'))
    throw new Error(`${name}: not an exec form (a JSON array of strings): ${text}`)
  return parsed
}

export const dockerfileOf = (text: string): DockerfileFacts => {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  const all = lines.map((l) => {
    const at = l.search(/\s/)
    return { name: l.slice(0, at).toUpperCase(), arg: l.slice(at).trim() }
  })
  const lastFrom = all.map((i) => i.name).lastIndexOf('FROM')
  const final = all.slice(lastFrom)
  const last = (name: string): string => [...final].reverse().find((i) => i.name === name)?.arg ?? ''
  const env: Record<string, string> = {}
  for (const i of final.filter((x) => x.name === 'ENV'))
    for (const m of i.arg.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g))
      env[m[1] as string] = (m[2] as string).replace(/^"|"$/g, '')
  const [uid = '', gid] = last('USER').split(':')
  return {
    stages: all.filter((i) => i.name === 'FROM').length,
    last: (name) => (name === 'FROM' ? (final[0]?.arg.split(/\s+/)[0] ?? '') : last(name)),
    env,
    user: { uid, gid },
    volumes: final.filter((i) => i.name === 'VOLUME').flatMap((i) => execForm('VOLUME', i.arg)),
    healthcheck: execForm('HEALTHCHECK', last('HEALTHCHECK').replace(/^.*?CMD\s+/, '')),
    cmd: execForm('CMD', last('CMD')),
  }
}
