// Phoenix's one notification style: typed events, each listener isolated, a listener's failure logged as what it is.
import type { Logger } from './logger.js';

/** An event map: each event's name and the arguments its listeners receive. */
export type EventMap<T> = { [K in keyof T]: unknown[] };
export type Listener<A extends unknown[]> = (...args: A) => void;

/**
 * The events a component publishes. Calling rules: `on()` returns the unsubscribe (so does `off()` by
 * reference); `emit()` calls every listener in the order they subscribed, synchronously; a listener that
 * throws is logged ("<source> '<event>' listener failed") and the others still hear the event, so a
 * listener's bug never passes for the component's own failure.
 */
export class Notifier<T extends EventMap<T>> {
  readonly #listeners = new Map<keyof T, Set<Listener<never>>>();
  readonly #source: string;
  readonly #logger: Logger;

  constructor(source: string, logger: Logger) {
    this.#source = source;
    this.#logger = logger;
  }

  on<K extends keyof T>(event: K, listener: Listener<T[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof T>(event: K, listener: Listener<T[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  emit<K extends keyof T>(event: K, ...args: T[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      const failed = (error: unknown) =>
        this.#logger.error({ err: error, event: String(event) }, `${this.#source} '${String(event)}' listener failed`);
      try {
        const result: unknown = (listener as Listener<T[K]>)(...args);
        // An async listener's rejection is its failure too, not an unhandled rejection.
        if (result instanceof Promise) result.catch(failed);
      } catch (error) {
        failed(error);
      }
    }
  }

  /** The arguments of the next `event`; rejects with the signal's reason if it aborts first. */
  next<K extends keyof T>(event: K, signal: AbortSignal): Promise<T[K]> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        unsubscribe();
        reject(signal.reason);
      };
      const unsubscribe = this.on(event, ((...args: T[K]) => {
        unsubscribe();
        signal.removeEventListener('abort', onAbort);
        resolve(args);
      }) as Listener<T[K]>);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  listenerCount(event: keyof T): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Forgets every listener (the component is closed). */
  clear(): void {
    this.#listeners.clear();
  }
}
