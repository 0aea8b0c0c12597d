// resource.Quantity: "500m", "128Mi", "1e3". Values are kept exactly as a bigint count of
// nano-units (Kubernetes rounds anything finer up to nanos), so sums and comparisons never drift.

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export const QUANTITY_PATTERN_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NANO = 1_000_000_000n;
const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([suffix, exponent]) => [exponent, suffix]));
const binaryByExponent = new Map(Object.entries(binarySuffixes).map(([suffix, exponent]) => [exponent, suffix]));

const numberPattern = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/;

export class Quantity {
  /** the value in nano-units (1 = 1e-9) */
  readonly nanos: bigint;
  readonly format: QuantityFormat;

  constructor(nanos: bigint, format: QuantityFormat) {
    this.nanos = nanos;
    this.format = format;
  }

  static parse(text: string): Quantity {
    const parsed = tryParseQuantity(text);
    if (!parsed) throw new QuantityParseError(text);
    return parsed;
  }

  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format);
  }

  static fromInteger(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(value) * NANO, format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos === 0n ? 0 : this.nanos > 0n ? 1 : -1;
  }

  /** Kubernetes keeps the receiver's format, unless it is zero (then it adopts the other's). */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos === other.nanos ? 0 : this.nanos < other.nanos ? -1 : 1;
  }

  /** ceil(value * 1000), as Quantity.MilliValue does */
  milliValue(): number {
    return Number(ceilDiv(this.nanos, 1_000_000n));
  }

  /** ceil(value), as Quantity.Value does */
  value(): number {
    return Number(ceilDiv(this.nanos, NANO));
  }

  /** The canonical form Kubernetes serialises: "1536Mi", "500m", "2", "1e3". */
  toString(): string {
    if (this.nanos === 0n) return '0';
    let format = this.format;
    if (format === 'BinarySI') {
      const small = this.nanos > -1024n * NANO && this.nanos < 1024n * NANO;
      if (small || this.nanos % NANO !== 0n) format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let mantissa = this.nanos / NANO;
      let exponent = 0;
      while (exponent < 60 && mantissa % 1024n === 0n) {
        mantissa /= 1024n;
        exponent += 10;
      }
      return `${mantissa}${binaryByExponent.get(exponent) ?? ''}`;
    }
    let mantissa = this.nanos;
    let exponent = -9;
    while (mantissa % 1000n === 0n) {
      mantissa /= 1000n;
      exponent += 3;
    }
    if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
    const suffix = decimalByExponent.get(exponent);
    return suffix === undefined ? `${mantissa}e${exponent}` : `${mantissa}${suffix}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

export class QuantityParseError extends Error {
  readonly text: string;
  constructor(text: string) {
    super(QUANTITY_PATTERN_MESSAGE);
    this.text = text;
  }
}

// Quantities are immutable and the same few strings ("500m", "256Mi") recur in every pod, so
// parsed values are remembered; the cache is simply emptied when it fills.
const parsedCache = new Map<string, Quantity | null>();
const PARSED_CACHE_LIMIT = 4096;

export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string') return parseUncached(input);
  const cached = parsedCache.get(input);
  if (cached !== undefined) return cached ?? undefined;
  const parsed = parseUncached(input);
  if (parsedCache.size >= PARSED_CACHE_LIMIT) parsedCache.clear();
  parsedCache.set(input, parsed ?? null);
  return parsed;
}

function parseUncached(input: unknown): Quantity | undefined {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return undefined;
    input = numberToPlainString(input);
  }
  if (typeof input !== 'string') return undefined;
  const text = input.trim();
  if (text === '' || text !== input) return undefined;
  const match = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/.exec(text);
  if (!match) return undefined;
  const numberText = match[1] ?? '';
  const suffix = match[2] ?? '';
  const number = numberPattern.exec(numberText);
  if (!number) return undefined;
  const negative = number[1] === '-';
  const whole = number[2] ?? '';
  const fraction = number[3] ?? '';
  if (whole === '' && fraction === '') return undefined;

  let base: 2 | 10;
  let exponent: number;
  let format: QuantityFormat;
  if (suffix in decimalSuffixes) {
    base = 10;
    exponent = decimalSuffixes[suffix] ?? 0;
    format = 'DecimalSI';
  } else if (suffix in binarySuffixes) {
    base = 2;
    exponent = binarySuffixes[suffix] ?? 0;
    format = 'BinarySI';
  } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
    base = 10;
    exponent = Number.parseInt(suffix.slice(1), 10);
    format = 'DecimalExponent';
    if (Math.abs(exponent) > 1000) return undefined;
  } else {
    return undefined;
  }

  // value = (whole.fraction) * base^exponent, expressed in nanos, rounded up (away from zero).
  const digits = BigInt(`${whole}${fraction}` || '0');
  let numerator = digits;
  let denominator = 10n ** BigInt(fraction.length);
  if (base === 10) {
    const scale = exponent + 9;
    if (scale >= 0) numerator *= 10n ** BigInt(scale);
    else denominator *= 10n ** BigInt(-scale);
  } else {
    numerator *= (1n << BigInt(exponent)) * NANO;
  }
  const magnitude = ceilDiv(numerator, denominator);
  return new Quantity(negative ? -magnitude : magnitude, format);
}

export function parseQuantity(input: string): Quantity {
  return Quantity.parse(input);
}

function ceilDiv(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const remainder = numerator % denominator;
  if (remainder === 0n) return quotient;
  return numerator > 0n ? quotient + 1n : quotient;
}

function numberToPlainString(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString();
  return value.toString().includes('e') ? value.toFixed(9).replace(/0+$/, '') : value.toString();
}

/** A ResourceList ({cpu: "500m"}) as quantities; entries that do not parse are skipped. */
export type ResourceList = Map<string, Quantity>;

export function toResourceList(input: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (!input || typeof input !== 'object') return out;
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    const quantity = tryParseQuantity(raw);
    if (quantity) out.set(name, quantity);
  }
  return out;
}

export function resourceListToJSON(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...list.keys()].sort()) out[name] = list.get(name)!.toString();
  return out;
}

export function addResourceLists(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [name, quantity] of b) {
    const existing = out.get(name);
    out.set(name, existing ? existing.add(quantity) : quantity);
  }
  return out;
}
