// Waiting on an in-process agent daemon's reports, and freezing one of its collectors.
import type { AgentDaemon } from '../../agent/daemon.js';
import type { CollectorExit, CollectorProcess } from '../../agent/supervisor/collector-process.js';
import type { AgentReport } from '../../protocol/report.js';

/** The next report `accept` takes, or a rejection after `timeoutMs`. */
export function nextReport(daemon: AgentDaemon, accept: (r: AgentReport) => boolean, timeoutMs = 60_000): Promise<AgentReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      daemon.off('report', onReport);
      reject(new Error(`no matching report within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReport = (r: AgentReport) => {
      if (!accept(r)) return;
      clearTimeout(timer);
      daemon.off('report', onReport);
      resolve(r);
    };
    daemon.on('report', onReport);
  });
}

/** SIGSTOPs the collector's child and waits for the supervisor to end it: its exit, and how long that took. */
export async function freezeCollector(collector: CollectorProcess): Promise<{ frozen: number; exit: CollectorExit; detectedMs: number }> {
  const frozen = collector.pid!;
  const ended = collector.next('exit');
  const frozenAt = Date.now();
  process.kill(frozen, 'SIGSTOP');
  const [exit] = await ended;
  return { frozen, exit, detectedMs: Date.now() - frozenAt };
}
