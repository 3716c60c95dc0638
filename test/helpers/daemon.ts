// Waiting on an in-process agent daemon's reports.
import type { AgentDaemon } from '../../agent/daemon.js';
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
