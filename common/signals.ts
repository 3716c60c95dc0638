// Process entry helper: SIGTERM/SIGINT abort a signal for a clean shutdown; a second one, or a stuck shutdown, exits 1.

/** Returns an AbortSignal aborted by the first SIGTERM or SIGINT. Only for process entry points (bin files). */
export function exitOnSignals(name: string, deadlineMs = 30_000): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // Started before the async shutdown, so a stuck shutdown cannot keep the process alive.
    setTimeout(() => {
      process.stderr.write(`${name}: shutdown did not finish within ${deadlineMs} ms; exiting\n`);
      process.exit(1);
    }, deadlineMs).unref();
    const again = () => process.exit(1);
    process.once('SIGINT', again);
    process.once('SIGTERM', again);
    controller.abort(signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}
