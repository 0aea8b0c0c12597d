// A running shell as the terminal sees it: bytes in, text out, a size, an end. The workbench's
// shell is reached through a Kubernetes exec stream (exec.ts); the terminal does not care how.

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** Where a learner's shell runs: the workbench pod of their sandbox. */
export interface WorkbenchTarget {
  namespace: string;
  pod: string;
  container: string;
  /** What to exec; the workbench image's interactive bash by default. */
  command?: string[];
  /** The kubeconfig of the cluster the workbench runs in, when it is the learner's own (a lab with needs: cluster). */
  kubeconfig?: string;
}

export interface ShellExit {
  /** Null when the stream ended without a status (the connection to the cluster broke). */
  exitCode: number | null;
  message: string;
  /**
   * The connection to the workbench broke with no word from the shell (the cluster restarted):
   * the terminal opens a new shell in the workbench rather than ending.
   */
  lost?: boolean;
}

export interface Shell {
  write(data: string): void;
  resize(size: TerminalSize): void;
  /** Pause/resume reading output (a slow browser applies back-pressure to the shell). */
  pause(): void;
  resume(): void;
  /** Ends the stream; the shell in the pod gets a hang-up. */
  close(): void;
}

export interface ShellEvents {
  output(data: string): void;
  exit(exit: ShellExit): void;
}

export type OpenShell = (target: WorkbenchTarget, size: TerminalSize, events: ShellEvents) => Promise<Shell>;
