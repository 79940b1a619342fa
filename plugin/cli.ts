#!/usr/bin/env node
// `async-trampoline`: runs the LND sidecar (`async-trampoline lnd [flags]`) and talks to a running one
// over its loopback admin endpoint (list, show, release, fail, stats, message-path). Human-readable
// output by default, `--json` for scripts. Output goes to stdout; errors to stderr with exit code 1
// (2: bad usage).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ADMIN_COMMANDS, isAdminCommand, type AdminCommand } from './ops/admin.js';
import { AdminCallError, TOKEN_FILE, callAdmin } from './ops/admin-server.js';
import { CONFIG_FLAG, configFilePath, readConfigFile, resolveOptions } from './ops/config.js';
import { envName } from './ops/options.js';
import { renderAnswer } from './ops/render.js';
import { bakeMacaroonCommand } from './backends/lnd/preflight.js';

const EXIT_USAGE = 2;
const clnPluginPath = (): string => join(dirname(fileURLToPath(import.meta.url)), 'cln.js');

function usage(): string {
  const cmds = Object.entries(ADMIN_COMMANDS).map(
    ([c, s]) => `  ${`${c} ${s.usage}`.padEnd(22)} ${s.description}`,
  );
  return [
    'usage: async-trampoline <command> [options]',
    '',
    'Run the LND sidecar:',
    '  lnd [flags]            run it (async-trampoline lnd --help lists every flag)',
    '  bakemacaroon [--lnd-version=0.21|0.20] [--save-to=<file>]',
    '                         print the lncli line that bakes its least-privilege macaroon',
    '',
    'Operate a running sidecar (through its admin endpoint on 127.0.0.1):',
    ...cmds,
    '',
    'Core Lightning:',
    '  cln-plugin-path        print the path to give lightningd as important-plugin=',
    '                         (its guard, cln-guard.js, sits beside it: load both by these paths)',
    '',
    'Options of the operator commands:',
    '  --json                 print the answer as JSON',
    "  --data-dir=<dir>       the sidecar's data dir, where admin.token is",
    "  --admin-port=<port>    the sidecar's admin port",
    `  --config=<file>        read data-dir and admin-port from the sidecar's config file`,
    `  (also ${envName('data-dir')}, ${envName('admin-port')}, ${envName('config')})`,
    '',
    'On CLN the same commands are lightning-cli async-trampoline-<command>, with the same answers.',
    '',
  ].join('\n');
}

function commandUsage(c: AdminCommand): string {
  return `usage: async-trampoline ${c} ${ADMIN_COMMANDS[c].usage} [--json] [--data-dir=<dir>] [--admin-port=<port>] [--config=<file>]\n${ADMIN_COMMANDS[c].description}\n`;
}

async function operate(command: AdminCommand, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        'data-dir': { type: 'string' },
        'admin-port': { type: 'string' },
        [CONFIG_FLAG.name]: { type: 'string' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${commandUsage(command)}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(commandUsage(command));
    return 0;
  }
  const wantsArg = ADMIN_COMMANDS[command].usage !== '';
  const required = wantsArg && !ADMIN_COMMANDS[command].usage.startsWith('[');
  if (positionals.length > (wantsArg ? 1 : 0) || (required && positionals.length === 0)) {
    process.stderr.write(commandUsage(command));
    return EXIT_USAGE;
  }
  // Same resolution as the sidecar's own (flag > env > config file > default), for two settings.
  const flags: Record<string, string> = {};
  for (const k of ['data-dir', 'admin-port', 'config'] as const) {
    const v = values[k];
    if (typeof v === 'string') flags[k] = v;
  }
  const read = readConfigFile(configFilePath(flags, process.env));
  const { config: _c, ...settings } = flags;
  const r = resolveOptions('lnd', { flags: settings, env: process.env, file: read.file }, [
    'data-dir',
    'admin-port',
  ]);
  const problems = [...read.problems, ...r.problems];
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return EXIT_USAGE;
  }
  const port = r.values.get<number>('admin-port')!;
  const tokenPath = join(r.values.get<string>('data-dir')!, TOKEN_FILE);
  const arg = positionals[0];
  try {
    const body = await callAdmin({
      port,
      tokenPath,
      command,
      ...(command === 'list' ? { state: arg } : { arg }),
    });
    process.stdout.write(values.json ? `${JSON.stringify(body, null, 2)}\n` : renderAnswer(command, body));
    return 0;
  } catch (e) {
    if (e instanceof AdminCallError) {
      process.stderr.write(`async-trampoline ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function bakemacaroon(argv: string[]): number {
  const use = 'usage: async-trampoline bakemacaroon [--lnd-version=0.21|0.20] [--save-to=<file>]\n';
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        'lnd-version': { type: 'string', default: '0.21' },
        'save-to': { type: 'string', default: 'async-trampoline.macaroon' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${use}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    process.stdout.write(
      `${use}Prints the lncli bakemacaroon line granting exactly the gRPC calls the sidecar makes\n` +
        '(LND 0.20 carries onion messages as custom messages, so its list differs).\n',
    );
    return 0;
  }
  const v = values['lnd-version'];
  if (v !== '0.21' && v !== '0.20') {
    process.stderr.write(`--lnd-version: "${v}" is not 0.21 or 0.20\n`);
    return EXIT_USAGE;
  }
  const args = bakeMacaroonCommand(v === '0.20' ? 'custom-message' : 'native', values['save-to']);
  process.stdout.write(`lncli ${args.join(' ')}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(usage());
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (command === 'lnd') {
    const { runSidecar } = await import('./lnd.js');
    return runSidecar(rest);
  }
  if (command === 'bakemacaroon') return bakemacaroon(rest);
  if (command === 'cln-plugin-path') {
    process.stdout.write(`${clnPluginPath()}\n`);
    return 0;
  }
  if (isAdminCommand(command)) return operate(command, rest);
  process.stderr.write(`async-trampoline: unknown command "${command}"\n\n${usage()}`);
  return EXIT_USAGE;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`async-trampoline: fatal: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
