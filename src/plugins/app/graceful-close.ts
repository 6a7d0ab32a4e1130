/**
 * Once the app starts closing (SIGTERM), every reply says `Connection: close`, so a client's keep-alive connection
 * ends with its last answer, and connections that sit idle are closed at once. Without this, one idle keep-alive
 * client held the process for the whole keep-alive timeout, past any orchestrator's grace.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'

export default fp(
  async function gracefulClose(app: FastifyInstance) {
    let closing = false
    app.addHook('preClose', async () => {
      closing = true
      app.server.closeIdleConnections()
    })
    // Callback-style hooks: they run on every reply, and an async one costs a promise each time.
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing) reply.header('connection', 'close')
      done(null, payload)
    })
    app.addHook('onResponse', (_request, _reply, done) => {
      // A connection whose last request just ended is idle now: close it rather than wait for the client.
      if (closing) app.server.closeIdleConnections()
      done()
    })
  },
  { name: 'graceful-close' },
)
