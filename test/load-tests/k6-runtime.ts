import { spawnSync } from 'node:child_process';

/**
 * A k6-like runtime in which a scenario's functions can run for real against a live API, one
 * call at a time: `k6/http` is synchronous as in k6 (each request is made by a short-lived
 * Node child process), `check` and the custom metrics record what the script reports, and
 * `sleep` really sleeps. It runs setup(), a few iterations and teardown(); it is not a load
 * generator (k6 is).
 */
export interface K6Response {
  status: number;
  body: string | null;
  headers: Record<string, string>;
  error: string;
  error_code: number;
  json: () => unknown;
}

export interface Runtime {
  modules: Record<string, unknown>;
  checks: Array<{ name: string; ok: boolean; tags?: Record<string, string> }>;
  samples: Map<string, Array<number | boolean>>;
  requests: Array<{ method: string; url: string; status: number; tags?: Record<string, string> }>;
}

const CHILD = `let s='';process.stdin.on('data',(d)=>(s+=d)).on('end',async()=>{const r=JSON.parse(s);
try{const res=await fetch(r.url,{method:r.method,headers:r.headers,body:r.body===null?undefined:r.body,signal:r.timeoutMs?AbortSignal.timeout(r.timeoutMs):undefined});
const body=await res.text();process.stdout.write(JSON.stringify({status:res.status,headers:Object.fromEntries(res.headers),body}));}
catch(e){process.stdout.write(JSON.stringify({status:0,headers:{},body:null,error:String(e&&e.message),timeout:!!e&&(e.name==='TimeoutError'||e.name==='AbortError')}));}});`;

/** Go's canonical header names, as k6 exposes them (`etag` → `Etag`). */
function canonical(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase())
    .join('-');
}

function timeoutMs(t: unknown): number {
  if (typeof t === 'number') return t;
  if (typeof t !== 'string') return 60_000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(t);
  if (!m) throw new Error(`timeout ${t} is not a duration`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

export function k6Runtime(): Runtime {
  const rt: Runtime = { modules: {}, checks: [], samples: new Map(), requests: [] };
  const request = (method: string, url: string, body: string | null, params: any = {}): K6Response => {
    const ms = timeoutMs(params.timeout);
    const input = JSON.stringify({ method, url, body: body ?? null, headers: params.headers ?? {}, timeoutMs: ms });
    const out = spawnSync(process.execPath, ['-e', CHILD], { input, encoding: 'utf8', timeout: ms + 30_000 });
    const r = JSON.parse(out.stdout);
    rt.requests.push({ method, url, status: r.status, tags: params.tags });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries<string>(r.headers)) headers[canonical(k)] = v;
    return {
      status: r.status,
      body: r.body,
      headers,
      error: r.error ?? '',
      error_code: r.status === 0 ? (r.timeout ? 1050 : 1000) : 0,
      json: () => JSON.parse(r.body),
    };
  };
  const metric = (_type: string) =>
    class {
      constructor(readonly name: string) {
        if (!rt.samples.has(name)) rt.samples.set(name, []);
      }
      add(v: number | boolean): void {
        rt.samples.get(this.name)!.push(v);
      }
    };
  const sleepSeconds = (s: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, s * 1000));
  rt.modules = {
    k6: {
      check: (val: unknown, sets: Record<string, (v: unknown) => boolean>, tags?: Record<string, string>) => {
        let all = true;
        for (const [name, fn] of Object.entries(sets)) {
          const ok = !!fn(val);
          rt.checks.push({ name, ok, tags });
          all &&= ok;
        }
        return all;
      },
      sleep: sleepSeconds,
      fail: (m: string) => {
        throw new Error(m);
      },
      group: (_n: string, f: () => unknown) => f(),
    },
    'k6/http': {
      default: {
        request,
        get: (url: string, params?: unknown) => request('GET', url, null, params),
        post: (url: string, body: string | null, params?: unknown) => request('POST', url, body, params),
        expectedStatuses: (...s: unknown[]) => ({ expectedStatuses: s }),
      },
    },
    'k6/metrics': { Trend: metric('trend'), Rate: metric('rate'), Counter: metric('counter'), Gauge: metric('gauge') },
  };
  return rt;
}
