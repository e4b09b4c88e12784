/**
 * A recording fake of the few EngineApi calls the pod worker makes, for unit
 * tests: containers are records with labels and a state the test sets
 * (`exit(id, code)`), images are a set of references. Only what the agent
 * uses is implemented; the cast to EngineApi is confined to `asEngine()`.
 */
import type {
  ContainerCreateRequest,
  ContainerInspect,
  ContainerSummary,
  EngineApi,
  Filters,
} from '../engine/types.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';

interface FakeContainer {
  id: string;
  name: string;
  req: ContainerCreateRequest;
  status: 'created' | 'running' | 'exited';
  exitCode: number;
  startedAt: string;
  finishedAt: string;
  created: string;
  error: string;
}

const zero = '0001-01-01T00:00:00Z';

export class FakeEngine {
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>(['busybox']);
  now: () => number = () => Date.now();
  #next = 1;

  asEngine(): EngineApi {
    return this as unknown as EngineApi;
  }

  exit(id: string, code: number, at = this.now()): void {
    const c = this.#get(id);
    Object.assign(c, { status: 'exited', exitCode: code, finishedAt: new Date(at).toISOString() });
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name);
  }

  #get(ref: string): FakeContainer {
    const c = this.containers.get(ref) ?? this.byName(ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  async inspectImage(ref: string): Promise<{ Id: string }> {
    if (!this.images.has(ref)) throw new NotFoundError(`No such image: ${ref}`);
    return { Id: `sha256:${ref}` };
  }

  async createContainer(req: ContainerCreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    const name = req.name ?? '';
    if (this.byName(name)) throw new ConflictError(`name ${name} in use`);
    const id = `c${this.#next++}`;
    this.calls.push(`create ${name}`);
    const t = new Date(this.now()).toISOString();
    this.containers.set(id, {
      id,
      name,
      req,
      status: 'created',
      exitCode: 0,
      startedAt: zero,
      finishedAt: zero,
      created: t,
      error: '',
    });
    return { Id: id, Warnings: [] };
  }

  async startContainer(ref: string): Promise<void> {
    const c = this.#get(ref);
    this.calls.push(`start ${c.name}`);
    Object.assign(c, { status: 'running', startedAt: new Date(this.now()).toISOString() });
  }

  async stopContainer(ref: string, opts?: { timeout?: number }): Promise<void> {
    const c = this.#get(ref);
    this.calls.push(`stop ${c.name} ${opts?.timeout}`);
    this.exit(c.id, 143);
  }

  async removeContainer(ref: string): Promise<void> {
    const c = this.#get(ref);
    this.calls.push(`remove ${c.name}`);
    this.containers.delete(c.id);
  }

  async listContainers(opts: { all?: boolean; filters?: Filters } = {}): Promise<ContainerSummary[]> {
    const wanted = opts.filters?.label ?? [];
    return [...this.containers.values()]
      .filter((c) =>
        wanted.every((l) => {
          const [k = '', v] = l.split('=');
          const labels = c.req.config.Labels ?? {};
          return v === undefined ? k in labels : labels[k] === v;
        }),
      )
      .map(
        (c) =>
          ({
            Id: c.id,
            Names: [`/${c.name}`],
            Labels: c.req.config.Labels ?? {},
            State: c.status,
          }) as ContainerSummary,
      );
  }

  async inspectContainer(ref: string): Promise<ContainerInspect> {
    const c = this.#get(ref);
    return {
      Id: c.id,
      Created: c.created,
      State: {
        Status: c.status,
        Running: c.status === 'running',
        Paused: false,
        Restarting: false,
        OOMKilled: false,
        Dead: false,
        Pid: 0,
        ExitCode: c.exitCode,
        Error: c.error,
        StartedAt: c.startedAt,
        FinishedAt: c.finishedAt,
      },
    } as ContainerInspect;
  }
}
