/** A free TCP port on 127.0.0.1, for a peer (nginx, Redis, Prometheus, `avx serve`) a test starts. */
import { createServer } from 'node:net';

/** A port nobody listens on right now (the peer binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
