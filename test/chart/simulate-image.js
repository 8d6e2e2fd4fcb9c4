#!/usr/bin/env node
// Follows the Dockerfile's stages without a Docker daemon, on the committed tree (HEAD), then starts the result the way the
// chart does: migrate hook, API, worker. It proves the image's file layout, not the base image:
// the host's Node and npm stand in for node:20-bookworm-slim. Usage (services up, see
// scripts/services.sh):  node test/chart/simulate-image.js [--keep]
// Each stage gets its own directory standing for its /app; COPY --from reads another stage's.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, mkdirSync, readFileSync, rmSync, cpSync, existsSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, dirname, resolve } = require('node:path');
const http = require('node:http');

const REPO = resolve(__dirname, '..', '..');
const WORK = mkdtempSync(join(tmpdir(), 'cutover-image-'));
const log = (msg) => process.stderr.write(`[simulate-image] ${msg}\n`);

function instructions() {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
    .split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op, args: rest.join(' ') };
  });
}

/** The build context: the committed tree (HEAD, as a clean clone has it) less what .dockerignore excludes. */
function context() {
  const dir = join(WORK, 'context');
  const head = join(WORK, 'head');
  mkdirSync(head);
  execFileSync('bash', ['-c', `git -C "${REPO}" archive HEAD | tar -x -C "${head}"`]);
  const excludes = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((p) => (p.startsWith('**/') ? p.slice(3) : `/${p}`));
  execFileSync('rsync', ['-a', ...excludes.flatMap((e) => ['--exclude', e]), `${head}/`, `${dir}/`]);
  return dir;
}

function copy(src, dest) {
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(src, dest, { recursive: true });
}

/** `--reuse=DIR`: skip the build and start what an earlier `--keep` run left in DIR. */
function build() {
  const reuse = process.argv.find((a) => a.startsWith('--reuse='))?.slice(8);
  const ctx = reuse ? null : context();
  const stages = new Map();
  let stage = null;
  let env = {};
  for (const { op, args } of instructions()) {
    if (op === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(args)[1];
      stage = join(reuse ?? WORK, name);
      mkdirSync(stage, { recursive: true });
      stages.set(name, stage);
      env = {};
      log(`stage ${name}`);
    } else if (op === 'ENV') {
      for (const m of args.matchAll(/(\w+)=(\S+)/g)) env[m[1]] = m[2];
    } else if (reuse) {
      continue;
    } else if (op === 'WORKDIR') {
      if (args !== '/app') throw new Error(`only WORKDIR /app is simulated, not ${args}`);
    } else if (op === 'COPY') {
      const parts = args.split(/\s+/);
      const from = parts[0].startsWith('--from=') ? stages.get(parts.shift().slice(7)) : null;
      const dest = parts.pop();
      for (const src of parts) {
        const source = from ? join(from, src.replace(/^\/app\//, '')) : join(ctx, src);
        const target = dest.endsWith('/') || parts.length > 1 ? join(stage, dest, src.split('/').pop()) : join(stage, dest);
        copy(source, src === '.' ? stage : target);
      }
    } else if (op === 'RUN') {
      log(`RUN ${args.slice(0, 100)}${args.length > 100 ? '…' : ''}`);
      execFileSync('bash', ['-c', args], { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    }
  }
  return { runtime: stages.get('runtime'), env };
}

function get(url) {
  return new Promise((ok) => {
    http.get(url, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode));
    }).on('error', () => ok(0));
  });
}

async function waitFor(url, ms) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
    if ((await get(url)) === 200) return 200;
  }
  return get(url);
}

// As the image's USER 1000:1000, in an /app it cannot write to (like readOnlyRootFilesystem,
// with /tmp writable as the chart's emptyDir), when this runs as root.
const AS_USER = process.getuid() === 0 ? ['setpriv', '--reuid=1000', '--regid=1000', '--clear-groups', '--'] : [];
const run = (cmd) => [...AS_USER, ...cmd];

function start(dir, env, args) {
  const [bin, ...rest] = run(['node', ...args]);
  const child = spawn(bin, rest, { cwd: dir, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((ok) => child.on('exit', (code, signal) => ok(code ?? signal)));
  return { child, exited };
}

async function stop(proc) {
  const started = Date.now();
  proc.child.kill('SIGTERM');
  const how = await proc.exited;
  // Nest runs its shutdown hooks, then re-raises the signal: exit by SIGTERM is the clean end
  return `${how === 0 || how === 'SIGTERM' ? 'clean' : `unclean (${how})`} in ${Date.now() - started} ms`;
}

async function smoke({ runtime, env: imageEnv }) {
  const db = `cutover_image_${process.pid}`;
  const base = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const admin = new URL(base);
  admin.pathname = '/postgres';
  execFileSync('psql', [admin.toString(), '-qc', `CREATE DATABASE ${db}`]);
  const url = new URL(base);
  url.pathname = `/${db}`;
  const apiPort = 20000 + (process.pid % 20000);
  const env = {
    PATH: process.env.PATH, HOME: '/nonexistent', ...imageEnv, DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', REDIS_PREFIX: `image-${process.pid}`,
    HTTP_PORT: String(apiPort), WORKER_METRICS_PORT: String(apiPort + 1), HTTP_HOST: '127.0.0.1',
  };
  const results = [];
  try {
    execFileSync('chmod', ['-R', 'a+rX,go-w', dirname(runtime)]);
    const [bin, ...rest] = run(['bash', 'scripts/prisma.sh', 'migrate', 'deploy']);
    execFileSync(bin, rest, { cwd: runtime, env, stdio: ['ignore', 'ignore', 'inherit'] });
    results.push(['migrate deploy (the hook Job command)', 'exit 0']);
    const api = start(runtime, env, ['dist/src/main.api.js']);
    const worker = start(runtime, env, ['dist/src/main.worker.js']);
    const root = `http://127.0.0.1:${apiPort}`;
    results.push(['API /health/ready', await waitFor(`${root}/health/ready`, 30000)]);
    for (const path of ['/health/live', '/metrics', '/docs', '/']) results.push([`API ${path}`, await get(`${root}${path}`)]);
    results.push(['worker /metrics', await waitFor(`http://127.0.0.1:${apiPort + 1}/metrics`, 30000)]);
    results.push(['API after SIGTERM', await stop(api)], ['worker after SIGTERM', await stop(worker)]);
  } finally {
    execFileSync('psql', [admin.toString(), '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]);
  }
  return results;
}

async function main() {
  const image = build();
  if (!existsSync(join(image.runtime, 'node_modules', 'prisma', 'build', 'index.js'))) throw new Error('prisma CLI missing');
  const size = execFileSync('du', ['-sh', image.runtime]).toString().split('\t')[0];
  const results = await smoke(image);
  process.stdout.write(`\n| check | result |\n| --- | --- |\n| runtime /app size | ${size} |\n| runs as | ${AS_USER.length ? 'uid 1000, /app not writable' : 'the current user'} |\n`);
  for (const [name, result] of results) process.stdout.write(`| ${name} | ${result} |\n`);
  const bad = results.filter(([, r]) => !(r === 200 || r === 'exit 0' || String(r).startsWith('clean')));
  if (!process.argv.includes('--keep')) rmSync(WORK, { recursive: true, force: true });
  else log(`kept ${WORK}`);
  if (bad.length > 0) throw new Error(`failed: ${bad.map(([n]) => n).join(', ')}`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exit(1);
});
