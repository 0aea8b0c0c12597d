// Kubernetes quantities ("500m", "1.5", "256Mi", "1e3") as numbers, so a check can say that a
// container asks for at least 100m CPU whichever way the learner wrote it ("0.1", "100m").

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

const MULTIPLIERS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function isQuantity(value: string): boolean {
  return QUANTITY.test(value.trim());
}

/** The quantity's value in base units (cores, bytes); undefined when it is not a quantity. */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const [, number = '0', suffix = '', exponent] = match;
  const base = Number(number);
  return exponent !== undefined ? base * 10 ** Number(exponent) : base * (MULTIPLIERS[suffix] ?? 1);
}
