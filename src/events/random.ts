/**
 * The generator's only source of randomness: sfc32 seeded through splitmix32, so a
 * `--seed` reproduces a sample byte for byte, while an unseeded run takes its seed from
 * Math.random (which V8 seeds from the OS per process) and every sample is fresh. Not
 * node:crypto: samples are not secrets, and loading it costs `generate` ~4% of bare
 * Node's start-up.
 */
/** The splitmix32 finalizer: a bijection on 32-bit integers that spreads every input bit. */
function mix32(value: number): number {
  let z = value >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number = Math.floor(Math.random() * 2 ** 32)) {
    let state = seed >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      return mix32(state);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // Seeds past 2^32 (up to 2^53, all --seed takes) fold their high bits into d through a
    // bijective mix: two different seeds never share a start state, and every seed below
    // 2^32 keeps the samples it always made.
    const high = Math.floor(seed / 2 ** 32);
    if (high > 0) this.d = (this.d ^ mix32(high)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  string(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  hex(length: number): string {
    return this.string(length, '0123456789abcdef');
  }

  /** A version-4 UUID. */
  uuid(): string {
    const variant = this.pick(['8', '9', 'a', 'b']);
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }
}
