/**
 * A TCP proxy in front of one of the suite's shared servers that a test can freeze and thaw, so the shared server
 * itself is never stopped. Frozen, it behaves as a SIGSTOPped server does to its clients: connections are still
 * accepted (the kernel's backlog) and bytes sent are kept, but nothing is answered; thawed, everything held is
 * delivered, in order, and answers flow again. Killed, it behaves as a dead server's host does: every connection is
 * reset, and new ones with it, until it is revived.
 */
import net from 'node:net';

export interface FreezableProxy {
  /** host:port to give a client instead of the server's. */
  address: string;
  port: number;
  freeze(): void;
  thaw(): void;
  kill(): void;
  revive(): void;
  close(): Promise<void>;
}

interface Pipe {
  client: net.Socket;
  upstream?: net.Socket;
  /** Bytes from the client not yet handed to the server, and back. */
  toServer: Buffer[];
  toClient: Buffer[];
}

export async function startFreezableProxy(target: { host: string; port: number }): Promise<FreezableProxy> {
  let frozen = false;
  let killed = false;
  const pipes = new Set<Pipe>();

  const flush = (pipe: Pipe) => {
    if (!pipe.upstream) return;
    for (const chunk of pipe.toServer.splice(0)) pipe.upstream.write(chunk);
    for (const chunk of pipe.toClient.splice(0)) pipe.client.write(chunk);
  };

  const connectUpstream = (pipe: Pipe) => {
    const upstream = net.connect(target);
    pipe.upstream = upstream;
    upstream.on('data', (chunk) => (frozen ? pipe.toClient.push(chunk) : pipe.client.write(chunk)));
    upstream.on('connect', () => (frozen ? undefined : flush(pipe)));
    const end = () => {
      pipes.delete(pipe);
      pipe.client.destroy();
      upstream.destroy();
    };
    upstream.on('error', end);
    upstream.on('close', end);
  };

  const server = net.createServer((client) => {
    if (killed) {
      client.resetAndDestroy();
      return;
    }
    const pipe: Pipe = { client, toServer: [], toClient: [] };
    pipes.add(pipe);
    client.on('data', (chunk) => {
      if (frozen || !pipe.upstream || pipe.upstream.connecting) pipe.toServer.push(chunk);
      else pipe.upstream.write(chunk);
    });
    const end = () => {
      pipes.delete(pipe);
      client.destroy();
      pipe.upstream?.destroy();
    };
    client.on('error', end);
    client.on('close', end);
    // A frozen server completes no handshake of its own: the upstream connection waits for the thaw.
    if (!frozen) connectUpstream(pipe);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    address: `127.0.0.1:${port}`,
    port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const pipe of pipes) {
        if (!pipe.upstream) connectUpstream(pipe);
        else if (!pipe.upstream.connecting) flush(pipe);
      }
    },
    kill() {
      killed = true;
      for (const pipe of pipes) {
        pipe.client.resetAndDestroy();
        pipe.upstream?.destroy();
      }
    },
    revive() {
      killed = false;
    },
    async close() {
      for (const pipe of pipes) {
        pipe.client.destroy();
        pipe.upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
