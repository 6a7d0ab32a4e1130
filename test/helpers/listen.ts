/** A test's own HTTP server on 127.0.0.1, closed (its keep-alive connections too) when the test ends. */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'

interface Teardownable {
  teardown(fn: () => unknown): void
}

/** Listens on a free loopback port and answers that port. */
export const listenOnLoopback = async (t: Teardownable, server: http.Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return (server.address() as AddressInfo).port
}
