// Startup, liveness and readiness probes as the kubelet's prober runs them: one worker per probe
// on a timer (initialDelaySeconds, periodSeconds), success and failure thresholds, and the
// results the prober reports (HTTP status codes, refused connections, an exec command's output).
// Probes of simulated servers are answered from data, so thousands of pods cost only timers.
import { type Json, num, obj, objects, str } from '../json.ts';
import { type HttpGetOutcome, type HttpGetRequest, probeUrl } from './probe-http.ts';

export type ProbeKind = 'Startup' | 'Liveness' | 'Readiness';

/** A warning (a redirect the prober did not follow) still passes, with a ProbeWarning event. */
export type ProbeResult = { success: true; warning?: string } | { success: false; message: string };

/** What a probe can reach: the container's ports and, for exec, its sandbox. */
export interface ProbeTarget {
  podIP: string;
  /** A named port resolved against the container's ports; undefined when the name is unknown. */
  resolvePort(port: unknown): number | undefined;
  /** The GET of an httpGet probe or hook: the status, or the failure as the prober words it. */
  http(request: HttpGetRequest): Promise<HttpGetOutcome>;
  tcp(port: number): boolean | Promise<boolean>;
  exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string } | { timedOut: true }>;
}

export interface ProbeTiming {
  /** Real milliseconds for probe seconds (the kubelet's time scale). */
  scaled(ms: number): number;
  userAgent: string;
}

export interface ProbeListener {
  /** Each attempt's outcome (the Unhealthy event on failures). */
  attempt(kind: ProbeKind, result: ProbeResult): void;
  /** Readiness changed, startup passed, or liveness/startup crossed the failure threshold. */
  transition(kind: ProbeKind, healthy: boolean): void;
}

/** An exec probe's command runs for real: its timeout is real time, plus what starting a sandbox takes. */
const SANDBOX_START_ALLOWANCE_MS = 1000;

export async function runProbe(spec: Json, target: ProbeTarget, timing: ProbeTiming): Promise<ProbeResult> {
  const timeoutMs = (num(spec['timeoutSeconds']) ?? 1) * 1000 + SANDBOX_START_ALLOWANCE_MS;
  if (spec['httpGet']) {
    const httpGet = obj(spec['httpGet']);
    const port = target.resolvePort(httpGet['port']);
    const host = str(httpGet['host']) || target.podIP;
    const path = str(httpGet['path']) ?? '/';
    if (port === undefined) return { success: false, message: `Get "${probeUrl('http', host, String(httpGet['port']), path)}": dial tcp ${host}: unknown port` };
    const outcome = await target.http(httpGetRequest(httpGet, host, port, timing.userAgent, (num(spec['timeoutSeconds']) ?? 1) * 1000));
    if ('error' in outcome) return { success: false, message: outcome.error };
    if (outcome.status >= 300 && outcome.status < 400) return { success: true, warning: `Probe terminated redirects, Response body: ${outcome.body}` };
    if (outcome.status >= 200 && outcome.status < 400) return { success: true };
    return { success: false, message: `HTTP probe failed with statuscode: ${outcome.status}` };
  }
  if (spec['tcpSocket'] || spec['grpc']) {
    const source = obj(spec['tcpSocket'] ?? spec['grpc']);
    const port = target.resolvePort(source['port']);
    const host = str(source['host']) || target.podIP;
    if (port !== undefined && (await target.tcp(port))) return { success: true };
    return { success: false, message: `dial tcp ${host}:${port ?? String(source['port'])}: connect: connection refused` };
  }
  if (spec['exec']) {
    const command = (obj(spec['exec'])['command'] as unknown[] | undefined)?.map(String) ?? [];
    const outcome = await target.exec(command, timeoutMs);
    if ('timedOut' in outcome) return { success: false, message: `command ${JSON.stringify(command.join(' '))} timed out` };
    return outcome.exitCode === 0 ? { success: true } : { success: false, message: outcome.output };
  }
  return { success: true };
}

/** The request of an httpGet action (a probe's or a lifecycle hook's) to `host`, the spec's or the pod IP. */
export function httpGetRequest(httpGet: Json, host: string, port: number, userAgent: string, timeoutMs: number): HttpGetRequest {
  return {
    scheme: (str(httpGet['scheme']) ?? 'HTTP').toLowerCase() === 'https' ? 'https' : 'http',
    host,
    port,
    path: str(httpGet['path']) ?? '/',
    headers: objects(httpGet['httpHeaders']).map((header) => [str(header['name']) ?? '', str(header['value']) ?? '']),
    userAgent,
    timeoutMs,
  };
}

/** One probe of one container instance, on its own timer. */
export class ProbeWorker {
  readonly kind: ProbeKind;
  readonly #spec: Json;
  readonly #target: ProbeTarget;
  readonly #timing: ProbeTiming;
  readonly #listener: ProbeListener;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #successes = 0;
  #failures = 0;
  /** Readiness: ready; liveness/startup: not yet failed. */
  #healthy: boolean;

  constructor(kind: ProbeKind, spec: Json, target: ProbeTarget, timing: ProbeTiming, listener: ProbeListener) {
    this.kind = kind;
    this.#spec = spec;
    this.#target = target;
    this.#timing = timing;
    this.#listener = listener;
    this.#healthy = kind !== 'Readiness';
  }

  start(): void {
    this.#schedule(this.#timing.scaled((num(this.#spec['initialDelaySeconds']) ?? 0) * 1000));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#probe(), Math.max(ms, 1));
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    if (this.#stopped) return;
    // A probe that could not be run (its sandbox failed) is a failed attempt, never an unhandled rejection.
    const result = await runProbe(this.#spec, this.#target, this.#timing).catch((error: unknown): ProbeResult => ({ success: false, message: error instanceof Error ? error.message : String(error) }));
    if (this.#stopped) return;
    this.#listener.attempt(this.kind, result);
    const successThreshold = num(this.#spec['successThreshold']) ?? 1;
    const failureThreshold = num(this.#spec['failureThreshold']) ?? 3;
    if (result.success) {
      this.#failures = 0;
      this.#successes++;
      if (this.kind === 'Startup') {
        this.#listener.transition(this.kind, true);
        this.stop();
        return;
      }
      if (!this.#healthy && this.#successes >= successThreshold) {
        this.#healthy = true;
        this.#listener.transition(this.kind, true);
      }
    } else {
      this.#successes = 0;
      this.#failures++;
      if (this.#healthy && this.#failures >= failureThreshold) {
        this.#healthy = false;
        this.#listener.transition(this.kind, false);
        if (this.kind !== 'Readiness') {
          this.stop();
          return;
        }
      }
    }
    this.#schedule(this.#timing.scaled((num(this.#spec['periodSeconds']) ?? 10) * 1000));
  }
}
