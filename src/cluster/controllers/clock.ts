// Time as the controllers see it: the current instant and timers. Injectable so a test can move
// a CronJob's schedule or a Job's deadline forward without waiting (k8s.io/utils/clock in spirit).

export interface Clock {
  now(): Date;
  /** Runs `callback` once after `delayMs`; returns what cancels it. Never keeps the process alive. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

export const realClock: Clock = {
  now: () => new Date(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

interface PendingTimer {
  at: number;
  callback: () => void;
}

/** A clock that moves only when told to; due timers fire during `advance`. */
export class ManualClock implements Clock {
  #now: number;
  readonly #timers = new Set<PendingTimer>();

  constructor(start: Date | string | number) {
    this.#now = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const timer: PendingTimer = { at: this.#now + Math.max(0, delayMs), callback };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** Moves time forward, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.#timers) if (timer.at <= target && (!next || timer.at < next.at)) next = timer;
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.callback();
    }
    this.#now = target;
  }

  set(instant: Date | string | number): void {
    const target = new Date(instant).getTime();
    if (target < this.#now) throw new Error(`ManualClock.set: ${new Date(target).toISOString()} is before now (${new Date(this.#now).toISOString()})`);
    this.advance(target - this.#now);
  }
}
