// Calls from the hub's event loop to a store thread (SQLite's writer and readers, issue 16) and their answers: each
// call an operation name and its arguments (structured-cloned), each answer its value or its error, revived on this
// side with its class (a store that cannot open stays a StoreOpenError, exit 2), its code and its message.
import { setPriority } from 'node:os';
import { parentPort, type Worker } from 'node:worker_threads';
import { CallingRuleError } from '../../common/errors.js';
import type { ErrorCode } from '../../common/error-codes.js';
import { StoreOpenError } from '../errors.js';

interface Call {
  id: number;
  op: string;
  args: unknown[];
}

interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

type Answer = { id: number; value: unknown } | { id: number; error: SerializedError };

/** What a thread says once it is ready: the operations it serves. */
interface Ready {
  ready: string[];
}

const serialize = (error: unknown): SerializedError => {
  const e = error as { name?: string; message?: string; code?: unknown };
  return { name: e.name ?? 'Error', message: e.message ?? String(error), ...(typeof e.code === 'string' ? { code: e.code } : {}) };
};

/** The error a thread threw, as this side throws it. */
function revive(s: SerializedError): Error {
  if (s.name === 'StoreOpenError') return new StoreOpenError(s.message);
  if (s.name === 'CallingRuleError' && s.code) return new CallingRuleError(s.code as ErrorCode, s.message);
  const error = new Error(s.message) as Error & { code?: string };
  error.name = s.name;
  if (s.code) error.code = s.code;
  return error;
}

/**
 * Lowers the calling thread's scheduling priority (nice 10; Linux keeps a nice value per thread): a window thread's
 * reads can wait a few milliseconds for a core, the loop that acknowledges 10,000 agents should not. Where the system
 * refuses (it never does for lowering), the thread runs at the process's priority.
 */
export function yieldToTheLoop(): void {
  try {
    setPriority(0, 10);
  } catch {
    // Still correct, only not deferring to the loop.
  }
}

/**
 * Serves `handlers` to the thread's parent (in the thread). Calls are answered in the order they arrive, each once
 * its handler has settled; `open` failing is the thread's start-up error.
 */
export function serveThread(open: () => Record<string, (...args: never[]) => unknown>): void {
  const port = parentPort;
  if (!port) throw new CallingRuleError('PHX_STORE_THREAD', 'serveThread: not in a worker thread');
  let handlers: Record<string, (...args: never[]) => unknown>;
  try {
    handlers = open();
  } catch (error) {
    port.postMessage({ id: 0, error: serialize(error) } satisfies Answer);
    return;
  }
  port.on('message', async (call: Call) => {
    const handler = handlers[call.op];
    try {
      if (!handler) throw new CallingRuleError('PHX_STORE_THREAD', `store thread: no operation '${call.op}'`);
      port.postMessage({ id: call.id, value: await handler(...(call.args as never[])) } satisfies Answer);
    } catch (error) {
      port.postMessage({ id: call.id, error: serialize(error) } satisfies Answer);
    }
  });
  port.postMessage({ ready: Object.keys(handlers) } satisfies Ready);
}

/**
 * The parent's side of one store thread. Calling rules: `ready` once (it resolves with the operations, or rejects with
 * the thread's start-up error); `call` any time after, concurrently; `close()` once. A thread that dies fails every
 * call under way and every later one.
 */
export class ThreadClient {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | null = null;
  readonly ready: Promise<string[]>;

  constructor(worker: Worker, what: string) {
    this.#worker = worker;
    this.ready = new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        this.#dead ??= error;
        reject(error);
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
      };
      worker.on('message', (m: Answer | Ready) => {
        if ('ready' in m) return resolve(m.ready);
        if (m.id === 0 && 'error' in m) return fail(revive(m.error));
        const pending = this.#pending.get(m.id);
        if (!pending) return;
        this.#pending.delete(m.id);
        if ('error' in m) pending.reject(revive(m.error));
        else pending.resolve(m.value);
      });
      worker.on('error', (error) => fail(new StoreOpenError(`${what}: the store thread failed (${error.message})`)));
      worker.on('exit', (code) => fail(new StoreOpenError(`${what}: the store thread exited (code ${code})`)));
    });
    this.ready.catch(() => undefined);
  }

  call<T>(op: string, args: readonly unknown[]): Promise<T> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, op, args: [...args] } satisfies Call);
    });
  }

  /** Asks the thread to close what it holds (`op`), then ends it. */
  async close(op = 'close'): Promise<void> {
    if (!this.#dead) await this.call(op, []).catch(() => undefined);
    this.#dead ??= new StoreOpenError('the store is closed');
    await this.#worker.terminate();
  }
}
