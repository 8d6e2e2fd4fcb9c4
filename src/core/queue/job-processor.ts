import { WorkerHost } from '@nestjs/bullmq';
import type { DynamicModule, Type } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { JOB_REGISTRY, type JobDefinition, type JobKey } from './job-registry';
import type { JobStatus, QueueName } from './queue.constants';

/** @nestjs/bullmq's metadata key for `@Processor(queue)` (bull.constants PROCESSOR_METADATA). */
const PROCESSOR_METADATA = 'bullmq:processor_metadata';
const JOB_HANDLERS = Symbol('cutover:job-handlers');
const BY_NAME: ReadonlyMap<string, JobDefinition> = new Map(Object.values(JOB_REGISTRY as Record<string, JobDefinition>).map((d) => [d.name, d]));

type Handlers = Map<string, string | symbol>;
type ProcessorClass = Type<WorkerHost>;

/** Marks the method that runs a registered job; it receives the parsed payload (JobPayload<K>), the job and its token. */
export function OnJob<K extends JobKey>(key: K) {
  return (target: object, method: string | symbol, _descriptor: PropertyDescriptor): void => {
    const ctor = target.constructor as { [JOB_HANDLERS]?: Handlers };
    const own = Object.prototype.hasOwnProperty.call(ctor, JOB_HANDLERS) ? ctor[JOB_HANDLERS]! : (ctor[JOB_HANDLERS] = new Map());
    own.set(JOB_REGISTRY[key].name, method);
  };
}

function handlersOf(cls: object): Handlers {
  return (cls as { [JOB_HANDLERS]?: Handlers })[JOB_HANDLERS] ?? new Map();
}

function queueOf(cls: object): QueueName | undefined {
  return (Reflect.getMetadata(PROCESSOR_METADATA, cls) as { name?: QueueName } | undefined)?.name;
}

/**
 * A queue's processor: looks the job up in the registry, validates its payload and calls the
 * method marked `@OnJob` for it. An unknown job or a bad payload is unrecoverable (never retried).
 */
export abstract class JobProcessor extends WorkerHost {
  async process(job: Job, token?: string): Promise<JobStatus> {
    const queue = queueOf(this.constructor);
    const method = handlersOf(this.constructor).get(job.name);
    const definition = BY_NAME.get(job.name);
    if (method === undefined || definition === undefined || definition.queue !== queue) throw new UnrecoverableError(`unknown job ${job.name} on queue ${queue}`);
    const parsed = definition.payload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.message}`);
    const handler = (this as unknown as Record<string | symbol, (p: unknown, j: Job, t?: string) => Promise<JobStatus>>)[method];
    return handler.call(this, parsed.data, job, token);
  }
}

type ModuleLike = Type<unknown> | DynamicModule | Promise<DynamicModule> | { forwardRef: () => unknown };

/** Every BullMQ processor class provided by these modules and the modules they import. */
export function processorsOf(modules: readonly ModuleLike[]): ProcessorClass[] {
  const seen = new Set<unknown>();
  const found = new Set<ProcessorClass>();
  const visit = (m: ModuleLike): void => {
    if (m === undefined || m instanceof Promise || 'forwardRef' in m) return;
    const dynamic = 'module' in m ? m : undefined;
    const cls = dynamic ? dynamic.module : (m as Type<unknown>);
    if (seen.has(m)) return;
    seen.add(m);
    const providers = [...((Reflect.getMetadata('providers', cls) as unknown[]) ?? []), ...(dynamic?.providers ?? [])];
    for (const p of providers) {
      const provided = typeof p === 'function' ? p : (p as { useClass?: unknown }).useClass;
      if (typeof provided === 'function' && queueOf(provided) !== undefined) found.add(provided as ProcessorClass);
    }
    for (const i of [...((Reflect.getMetadata('imports', cls) as ModuleLike[]) ?? []), ...((dynamic?.imports as ModuleLike[]) ?? [])]) visit(i);
  };
  modules.forEach(visit);
  return [...found];
}

/**
 * Checks that every registered job has exactly one processor, on the job's queue, and that every
 * processor is a JobProcessor running only registered jobs. Throws, listing every problem, so
 * that a worker with a job nobody runs (or two run) fails to start instead of leaving it queued.
 */
export function checkJobRegistry(processors: readonly ProcessorClass[], registry: Record<string, JobDefinition> = JOB_REGISTRY): void {
  const problems: string[] = [];
  const runners = new Map<string, string[]>();
  for (const p of processors) {
    if (!(p.prototype instanceof JobProcessor)) problems.push(`${p.name} is not a JobProcessor: its jobs are not in the registry`);
    for (const name of handlersOf(p).keys()) runners.set(name, [...(runners.get(name) ?? []), p.name]);
  }
  const definitions = new Map(Object.values(registry).map((d) => [d.name, d]));
  for (const d of definitions.values()) {
    const on = processors.filter((p) => handlersOf(p).has(d.name));
    if (on.length === 0) problems.push(`job ${d.name} (queue ${d.queue}) has no processor`);
    if (on.length > 1) problems.push(`job ${d.name} has ${on.length} processors: ${on.map((p) => p.name).join(', ')}`);
    for (const p of on) if (queueOf(p) !== d.queue) problems.push(`${p.name} runs job ${d.name} on queue ${queueOf(p)}, but the job is on queue ${d.queue}`);
  }
  for (const [name, by] of runners) if (!definitions.has(name)) problems.push(`${by.join(', ')} runs job ${name}, which is not in the registry`);
  if (problems.length > 0) throw new Error(`the job registry does not match the worker's processors:\n- ${problems.join('\n- ')}`);
}
