// A dynamic lightningd plugin for crash tests: its rpc_command hook (filtered to the methods named in
// CLN_RPC_GATE_METHODS, comma-separated) takes each such call and never answers, so the caller waits
// until lightningd dies. Each held call is a JSON line on stderr, which lightningd passes on, like our
// plugin's: {"message":"rpc gate holding", method, params}. Started with `plugin start` so a restart
// of lightningd comes up without it.
import { JsonObjectStream, frame } from '../../plugin/backends/cln/framing.js';

const methods = (process.env.CLN_RPC_GATE_METHODS ?? '').split(',').filter(Boolean);

interface Request {
  id?: unknown;
  method?: unknown;
  params?: { rpc_command?: { method?: unknown; params?: unknown } };
}

const reply = (id: unknown, result: unknown): void => {
  process.stdout.write(frame({ jsonrpc: '2.0', id, result }));
};

const stream = new JsonObjectStream({
  message(value) {
    const req = value as Request;
    if (req.method === 'getmanifest')
      reply(req.id, {
        options: [],
        rpcmethods: [],
        hooks: [{ name: 'rpc_command', filters: methods }],
        dynamic: true,
      });
    else if (req.method === 'init') reply(req.id, {});
    else if (req.method === 'rpc_command') {
      const call = req.params?.rpc_command;
      process.stderr.write(
        JSON.stringify({
          level: 'info',
          message: 'rpc gate holding',
          method: call?.method,
          params: call?.params,
        }) + '\n',
      );
      // No answer: the call stays pending in lightningd.
    }
  },
  garbage() {},
});

process.stdin.on('data', (chunk: Buffer) => stream.push(chunk));
process.stdin.on('end', () => process.exit(0));
