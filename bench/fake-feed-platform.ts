/**
 * For the feed scenario: one process serving a Spamhaus DROP-format feed of ROWS netblocks (GET /drop_v4.json) and a
 * minimal v2 Batch API that accepts every job at once (POST /api/v2/batch, POST /api/v2/batch/:id, GET status, GET
 * errors), so the measure is the feed job's own time and memory, not a stand-in's. Prints "listening <port>".
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const rows = Number(process.env['ROWS'] ?? '100000')
const lines: string[] = []
for (let i = 0; i < rows; i++)
  lines.push(
    JSON.stringify({ cidr: `${10 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, sblid: `SBL${i}`, rir: 'ripencc' }),
  )
lines.push(JSON.stringify({ type: 'metadata', timestamp: 1764583200, size: 0, records: rows, copyright: 'bench' }))
const feed = `${lines.join('\n')}\n`

let nextId = 1
const uploaded = new Map<number, number>()
const send = (res: http.ServerResponse, body: unknown): void => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/'
  if (req.method === 'GET' && url === '/drop_v4.json') {
    res.writeHead(200, { 'content-type': 'application/json', etag: '"bench-1"' })
    res.end(feed)
    return
  }
  let size = 0
  req.on('data', (chunk: Buffer) => (size += chunk.length))
  req.on('end', () => {
    const upload = /^\/api\/v2\/batch\/(\d+)$/.exec(url.split('?')[0] ?? '')
    if (req.method === 'POST' && url === '/api/v2/batch')
      return send(res, { status: 'Success', data: { batchId: nextId++ } })
    if (req.method === 'POST' && upload) {
      uploaded.set(Number(upload[1]), size)
      return send(res, { status: 'Success' })
    }
    if (req.method === 'GET' && upload)
      return send(res, {
        status: 'Success',
        data: {
          batchStatus: {
            id: Number(upload[1]),
            status: 'Completed',
            successCount: 1,
            errorCount: 0,
            unprocessCount: 0,
          },
        },
      })
    if (req.method === 'GET' && /\/errors$/.test(url)) return send(res, [])
    if (req.method === 'GET' && url === '/__stats')
      return send(res, { batches: uploaded.size, bytes: [...uploaded.values()].reduce((a, b) => a + b, 0) })
    res.writeHead(404)
    res.end()
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
