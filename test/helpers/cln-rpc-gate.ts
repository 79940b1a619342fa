// A dynamic lightningd plugin for crash tests: its rpc_command hook (filtered to the methods named in
// CLN_RPC_GATE_METHODS, comma-separated) holds each such call until `rpc-gate-open <method>` lets the
// held calls of that method go on, or lightningd dies. Each held call is a JSON line on stderr, which
// lightningd passes on, like our plugin's: {"message":"rpc gate holding", method, params}. Started
// with `plugin start`, so a restart of lightningd comes up without it.
import { JsonObjectStream, frame } from '../../plugin/backends/cln/framing.js';

const methods = (process.env.CLN_RPC_GATE_METHODS ?? '').split(',').filter(Boolean);

interface Request {
  id?: unknown;
  method?: unknown;
  params?: { rpc_command?: { method?: unknown; params?: unknown } };
}

/** Hook requests not answered yet, by the method of the call they hold. */
const held = new Map<string, unknown[]>();

const reply = (id: unknown, result: unknown): void => {
  process.stdout.write(frame({ jsonrpc: '2.0', id, result }));
};

const stream = new JsonObjectStream({
  message(value) {
    const req = value as Request;
    if (req.method === 'getmanifest')
      reply(req.id, {
        options: [],
        rpcmethods: [
          {
            name: 'rpc-gate-open',
            usage: 'method',
            description: 'Let the held calls of a method go on',
          },
        ],
        hooks: [{ name: 'rpc_command', filters: methods }],
        dynamic: true,
      });
    else if (req.method === 'init') reply(req.id, {});
    else if (req.method === 'rpc-gate-open') {
      const p = req.params as unknown;
      const method = String(Array.isArray(p) ? p[0] : (p as { method?: unknown } | undefined)?.method);
      const ids = held.get(method) ?? [];
      held.delete(method);
      for (const id of ids) reply(id, { result: 'continue' });
      reply(req.id, { opened: ids.length });
    } else if (req.method === 'rpc_command') {
      const call = req.params?.rpc_command;
      const method = String(call?.method);
      held.set(method, [...(held.get(method) ?? []), req.id]);
      process.stderr.write(
        JSON.stringify({
          level: 'info',
          message: 'rpc gate holding',
          method,
          params: call?.params,
        }) + '\n',
      );
      // No answer yet: the call stays pending in lightningd until opened.
    }
  },
  garbage() {},
});

process.stdin.on('data', (chunk: Buffer) => stream.push(chunk));
process.stdin.on('end', () => process.exit(0));
