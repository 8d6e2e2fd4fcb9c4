import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import vm from 'node:vm';
import ts from 'typescript';

/** Modules a scenario may import: k6's built-ins that exist in k6 v0.48 (no jslib, no experimental). */
export const K6_MODULES = ['k6', 'k6/http', 'k6/metrics', 'k6/execution', 'k6/data', 'k6/encoding', 'k6/crypto'] as const;

export const LOAD_TESTS_DIR = resolve(__dirname, '../../load-tests');

export interface DefinedMetric {
  name: string;
  type: 'trend' | 'rate' | 'counter' | 'gauge';
  isTime: boolean;
}

export interface LoadedScript {
  exports: Record<string, any>;
  /** custom metrics created in the init context */
  metrics: DefinedMetric[];
  /** every module specifier imported by the script or its lib files */
  imports: string[];
}

function noNetwork(): never {
  throw new Error('the k6 HTTP shim makes no requests: unit tests load scenarios without a network');
}

/** Small stand-ins for k6's built-in modules: enough to run a script's init context. */
function shims(metrics: DefinedMetric[]): Record<string, unknown> {
  const metric = (type: DefinedMetric['type']) =>
    class {
      constructor(readonly name: string, isTime = false) {
        metrics.push({ name, type, isTime });
      }
      add(): void {}
    };
  return {
    k6: { check: () => true, sleep: () => undefined, fail: (m: string) => { throw new Error(m); }, group: (_n: string, f: () => unknown) => f() },
    'k6/http': { default: { request: noNetwork, get: noNetwork, post: noNetwork, batch: noNetwork, expectedStatuses: (...s: unknown[]) => ({ expectedStatuses: s }) } },
    'k6/metrics': { Trend: metric('trend'), Rate: metric('rate'), Counter: metric('counter'), Gauge: metric('gauge') },
    'k6/execution': { default: { vu: { idInTest: 1, iterationInScenario: 0 }, scenario: { name: 'test', iterationInTest: 0 } } },
    'k6/data': { SharedArray: class {} },
    'k6/encoding': { default: { b64encode: () => '', b64decode: () => '' } },
    'k6/crypto': { default: {} },
  };
}

/**
 * Loads a k6 script the way k6's init context would: ES modules (transpiled to CommonJS
 * here), `__ENV` from `env`, k6's modules replaced by the shims above, relative imports
 * resolved to the real lib files.
 */
export function loadK6Script(file: string, env: Record<string, string> = {}, overrides: Record<string, unknown> = {}): LoadedScript {
  const metrics: DefinedMetric[] = [];
  const imports: string[] = [];
  const builtins = { ...shims(metrics), ...overrides };
  const cache = new Map<string, Record<string, any>>();
  const context = vm.createContext({ __ENV: { ...env }, __VU: 0, __ITER: 0, console: { log() {}, info() {}, warn() {}, error() {}, debug() {} } });

  const load = (path: string): Record<string, any> => {
    const cached = cache.get(path);
    if (cached) return cached;
    const source = readFileSync(path, 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: false },
      fileName: path,
    }).outputText;
    const module = { exports: {} as Record<string, any> };
    cache.set(path, module.exports);
    const requireFn = (spec: string) => {
      imports.push(spec);
      if (spec.startsWith('.')) return load(resolve(dirname(path), spec));
      if (spec in builtins) return builtins[spec];
      throw new Error(`${path} imports "${spec}", which is not a k6 v0.48 built-in module`);
    };
    const wrapper = vm.runInContext(`(function (exports, require, module) {${js}\n})`, context, { filename: path });
    wrapper(module.exports, requireFn, module);
    return module.exports;
  };

  return { exports: load(resolve(LOAD_TESTS_DIR, file)), metrics, imports };
}
