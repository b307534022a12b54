// What the status bar shows: the work under way, the last problem (with Retry), a notice.
import type { IpcError } from "../../bindings/IpcError";

export type Failure = { error: IpcError; retry: (() => void) | null };

export class Status {
  /** The long work under way ("Loading INBOX…"), for the status bar and the busy state. */
  busy = $state<string | null>(null);
  /** A sync's progress, shown instead of `busy` while it runs. */
  progress = $state<string | null>(null);
  error = $state<Failure | null>(null);
  notice = $state<string | null>(null);

  /** Runs `run` as the work under way: its error is shown (with `retry`), a success clears
   * the last error. Returns undefined when it failed. */
  async task<T>(label: string, run: () => Promise<T>, retry: (() => void) | null = null): Promise<T | undefined> {
    this.busy = label;
    try {
      const value = await run();
      this.error = null;
      return value;
    } catch (e) {
      this.error = { error: e as IpcError, retry };
      return undefined;
    } finally {
      if (this.busy === label) this.busy = null;
    }
  }

  /** A problem the backend reported as data (offline, an outbox failure), shown like an
   * error with Retry. */
  warn(message: string, retry: (() => void) | null = null) {
    this.error = { error: { code: "unreachable", message, retryable: true, certificate: null }, retry };
  }
}
