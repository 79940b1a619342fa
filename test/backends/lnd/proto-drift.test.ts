// Our narrow protos/ must agree with LND's own: every message, field, enum value and RPC we declare
// exists in LND with the same number, type, label and streaming shape, for each pinned LND tag.
// RPCs LND 0.20 does not have (onion messages) are checked against 0.21 only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { loaderOptions, protoFiles, protosDir } from '../../../plugin/backends/lnd/grpc.js';
import { PINNED_LND_TAGS, goAvailable, lndModuleDir } from './lnd-source.js';

interface FieldDesc {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}
interface EnumDesc {
  name: string;
  value: { name: string; number: number }[];
}
interface MessageDesc {
  name: string;
  field: FieldDesc[];
  nestedType: MessageDesc[];
  enumType: EnumDesc[];
}
interface MethodDef {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: { type: { name: string } };
  responseType: { type: { name: string } };
}

type Def = protoLoader.PackageDefinition;

/** Only in LND >= 0.21. */
const ONLY_021 = new Set([
  'lnrpc.Lightning.SendOnionMessage',
  'lnrpc.Lightning.SubscribeOnionMessages',
  'lnrpc.SendOnionMessageRequest',
  'lnrpc.SendOnionMessageResponse',
  'lnrpc.SubscribeOnionMessagesRequest',
  'lnrpc.OnionMessageUpdate',
]);

function load(dir: string): Def {
  return protoLoader.loadSync(protoFiles, { ...loaderOptions, includeDirs: [dir] });
}

function lndProtos(tag: string): Def {
  const root = lndModuleDir(tag);
  // LND's sub-server protos import "lightning.proto" relative to lnrpc/.
  return protoLoader.loadSync(
    protoFiles.map((f) => join(root, 'lnrpc', f)),
    { ...loaderOptions, includeDirs: [join(root, 'lnrpc')] },
  );
}

const isMessage = (v: unknown): v is { format: string; type: MessageDesc } =>
  typeof v === 'object' &&
  v !== null &&
  (v as { format?: string }).format === 'Protocol Buffer 3 DescriptorProto';
const isEnum = (v: unknown): v is { format: string; type: EnumDesc } =>
  typeof v === 'object' &&
  v !== null &&
  (v as { format?: string }).format === 'Protocol Buffer 3 EnumDescriptorProto';

function compareEnum(where: string, ours: EnumDesc, theirs: EnumDesc | undefined, problems: string[]): void {
  if (!theirs) return void problems.push(`${where}: enum missing in LND`);
  for (const v of ours.value) {
    const t = theirs.value.find((x) => x.name === v.name);
    if (!t) problems.push(`${where}.${v.name}: enum value missing in LND`);
    else if (t.number !== v.number) problems.push(`${where}.${v.name}: ours ${v.number}, LND ${t.number}`);
  }
}

function compareMessage(
  where: string,
  ours: MessageDesc,
  theirs: MessageDesc | undefined,
  problems: string[],
): void {
  if (!theirs) return void problems.push(`${where}: message missing in LND`);
  for (const f of ours.field) {
    const t = theirs.field.find((x) => x.name === f.name);
    if (!t) {
      problems.push(`${where}.${f.name}: field missing in LND`);
      continue;
    }
    for (const k of ['number', 'label', 'type', 'typeName'] as const) {
      if (t[k] !== f[k]) problems.push(`${where}.${f.name}: ${k} ours ${f[k]}, LND ${t[k]}`);
    }
  }
  for (const n of ours.nestedType) {
    compareMessage(
      `${where}.${n.name}`,
      n,
      theirs.nestedType.find((x) => x.name === n.name),
      problems,
    );
  }
  for (const e of ours.enumType) {
    compareEnum(
      `${where}.${e.name}`,
      e,
      theirs.enumType.find((x) => x.name === e.name),
      problems,
    );
  }
}

function drift(ours: Def, theirs: Def, tag: string): string[] {
  const problems: string[] = [];
  const skip = (name: string): boolean => tag.startsWith('v0.20.') && ONLY_021.has(name);
  for (const [name, def] of Object.entries(ours)) {
    if (skip(name)) continue;
    const t = theirs[name];
    if (isMessage(def)) compareMessage(name, def.type, isMessage(t) ? t.type : undefined, problems);
    else if (isEnum(def)) compareEnum(name, def.type, isEnum(t) ? t.type : undefined, problems);
    else {
      // A service: every method with the same path, types and streaming flags.
      for (const [method, m] of Object.entries(def as Record<string, MethodDef>)) {
        if (skip(`${name}.${method}`)) continue;
        const tm = (t as Record<string, MethodDef> | undefined)?.[method];
        if (!tm) {
          problems.push(`${name}.${method}: RPC missing in LND`);
          continue;
        }
        if (tm.path !== m.path) problems.push(`${name}.${method}: path ours ${m.path}, LND ${tm.path}`);
        if (tm.requestStream !== m.requestStream || tm.responseStream !== m.responseStream)
          problems.push(`${name}.${method}: streaming shape differs`);
        if (tm.requestType.type.name !== m.requestType.type.name)
          problems.push(
            `${name}.${method}: request ${m.requestType.type.name} vs LND ${tm.requestType.type.name}`,
          );
        if (tm.responseType.type.name !== m.responseType.type.name)
          problems.push(
            `${name}.${method}: response ${m.responseType.type.name} vs LND ${tm.responseType.type.name}`,
          );
      }
    }
  }
  return problems;
}

const haveGo = goAvailable();

for (const tag of PINNED_LND_TAGS) {
  test(`protos/ match LND ${tag}`, { skip: haveGo ? false : 'go is not installed' }, () => {
    const problems = drift(load(protosDir), lndProtos(tag), tag);
    assert.deepEqual(problems, [], `drift against LND ${tag}:\n${problems.join('\n')}`);
  });
}

test('the drift check notices a changed field number', () => {
  const ours = load(protosDir);
  const theirs = load(protosDir);
  const t = theirs['lnrpc.GetInfoResponse'] as unknown as { type: MessageDesc };
  const f = t.type.field.find((x) => x.name === 'require_htlc_interceptor')!;
  f.number = 99;
  assert.deepEqual(drift(ours, theirs, 'v0.21.2-beta'), [
    'lnrpc.GetInfoResponse.require_htlc_interceptor: number ours 21, LND 99',
  ]);
});

test('the drift check notices a missing RPC, except onion messages on 0.20', () => {
  const ours = load(protosDir);
  const theirs = load(protosDir);
  const svc = theirs['lnrpc.Lightning'] as unknown as Record<string, unknown>;
  delete svc.SubscribeOnionMessages;
  delete svc.GetInfo;
  assert.deepEqual(drift(ours, theirs, 'v0.21.2-beta'), [
    'lnrpc.Lightning.GetInfo: RPC missing in LND',
    'lnrpc.Lightning.SubscribeOnionMessages: RPC missing in LND',
  ]);
  assert.deepEqual(drift(ours, theirs, 'v0.20.2-beta'), ['lnrpc.Lightning.GetInfo: RPC missing in LND']);
});
