/**
 * The baseline for scenario 3: plain Node that, for each request, makes the same kind of keep-alive call to the
 * fake vendor and answers with what it got. Whatever latency it adds over the fake is the machine's (process
 * wake-ups, loopback, scheduling), not the app's. TARGET_PORT is the fake's port; prints "listening <port>".
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const target = Number(process.env['TARGET_PORT'])
const agent = new http.Agent({ keepAlive: true })
let n = 0

const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    n += 1
    const path = `/45.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
    http
      .get({ host: '127.0.0.1', port: target, path, agent }, (answer) => {
        let text = ''
        answer.setEncoding('utf8')
        answer.on('data', (c: string) => (text += c))
        answer.on('end', () => {
          const body = JSON.stringify({ answer: JSON.parse(text) as unknown })
          res
            .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
            .end(body)
        })
      })
      .on('error', () => res.writeHead(502).end())
  })
})

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
