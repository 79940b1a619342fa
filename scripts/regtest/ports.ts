// Free loopback ports for the regtest daemons, so several networks (or other users of the machine)
// never collide on fixed ports.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

async function onePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Distinct free ports; a port is never handed out twice in this process (the OS may reuse it). */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const p = await onePort();
    if (p !== 0 && !handedOut.has(p)) {
      handedOut.add(p);
      out.push(p);
    }
  }
  return out;
}
