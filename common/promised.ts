// A synchronous contract's asynchronous form, and an object of synchronous functions behind it (settled promises).

/** `T`'s methods, each returning a promise of what it returned (the asynchronous form of a synchronous contract). */
export type Promised<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** Runs `work` now; its result or error as a settled promise. */
function settle<T>(work: () => T): Promise<Awaited<T>> {
  try {
    return Promise.resolve(work()) as Promise<Awaited<T>>;
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

/** Every method of `sync` (an object of functions, as the SQLite store's parts are) behind promises. */
export function promised<T extends object>(sync: T): Promised<T> {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(sync)) {
    if (typeof method === 'function') out[name] = (...args: unknown[]) => settle(() => (method as (...a: unknown[]) => unknown).apply(sync, args));
  }
  return out as Promised<T>;
}
