// At most `size` of a kind of work at once, the rest waiting their turn in order. Starting a pod
// sandbox and attaching it to the pod network spawn a dozen processes and take the kernel's
// network locks: five hundred pods started all at once took each of them the time of all (every
// pod Ready only at the end, the slowest past the start timeouts), where a few at a time makes the
// first pods Ready at once and the whole batch sooner.
export class ParallelLimit {
  readonly #size: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#size = Math.max(1, Math.floor(size));
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#size) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next in line, so a newcomer cannot overtake it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
