/**
 * Read buffers used again once their bytes are no longer needed, for streams whose chunks go from a
 * blob read to a blob write (a stored zip entry: CRC, the archive's streams, the hash and the file
 * write all pass the very same Buffer along), or into a consumer that is known to be done with them (a
 * deflated entry once its deflate stream has ended).
 *
 * Without it, every chunk read is a fresh buffer, dead once written: a 1 GiB zip is 1 GiB of short-lived
 * native memory, freed only when V8 next collects the Buffers (its heuristics let tens of MiB of dead
 * ones pile up), into an allocator that keeps much of it. With it, the same few buffers carry the bytes.
 *
 * Safety rests on one rule: a buffer is taken back only when exactly the view lent out (same memory,
 * offset and length) is reported done, and only once. A chunk that a stream on the way split, copied
 * or kept (a partial write, zlib's input) is never reported whole, so its buffer is simply left to the
 * garbage collector (the pool holds lent buffers weakly) and the pool allocates another. Nothing ever
 * waits on the pool.
 */
export class ChunkPool {
  readonly #free: Buffer[] = [];
  /** Lent views, by their memory (held weakly: a buffer never given back is collected as usual). */
  readonly #lent = new WeakMap<ArrayBufferLike, { readonly buffer: Buffer; readonly length: number }>();
  /** Every loan still out, for `reclaimAll` (weakly too). */
  #loans: WeakRef<ArrayBufferLike>[] = [];

  /**
   * @param chunkBytes the size of every buffer
   * @param maxFree most free buffers kept; others given back are left to the garbage collector
   */
  constructor(
    readonly chunkBytes: number,
    readonly maxFree = 16,
  ) {}

  /** A buffer of `chunkBytes` to read into; give it to `lend` once filled, or `putBack` if not. */
  take(): Buffer {
    // Its own memory (never a slice of Node's shared pool), so that its ArrayBuffer identifies it.
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes);
  }

  /** The chunk to pass on: the first `length` bytes of a buffer from `take`, lent until `done`. */
  lend(buffer: Buffer, length: number): Buffer {
    this.#lent.set(buffer.buffer, { buffer, length });
    if (this.#loans.length >= 1024) this.#loans = this.#loans.filter((ref) => this.#isLent(ref.deref()));
    this.#loans.push(new WeakRef(buffer.buffer));
    return length === buffer.length ? buffer : buffer.subarray(0, length);
  }

  /** A buffer from `take` that was not lent after all (nothing was read into it). */
  putBack(buffer: Buffer): void {
    if (!this.#lent.has(buffer.buffer)) this.#keep(buffer);
  }

  /**
   * Any chunk whose bytes nobody needs any more (written out): when it is exactly one this pool lent,
   * its buffer is free again.
   */
  done(chunk: Uint8Array): void {
    const loan = this.#lent.get(chunk.buffer);
    if (!loan || chunk.byteOffset !== loan.buffer.byteOffset || chunk.byteLength !== loan.length) return;
    this.#lent.delete(chunk.buffer);
    this.#keep(loan.buffer);
  }

  /** Every chunk lent so far is no longer needed by anyone: their buffers (those not collected) are free. */
  reclaimAll(): void {
    for (const ref of this.#loans) {
      const memory = ref.deref();
      const loan = memory && this.#lent.get(memory);
      if (!memory || !loan) continue;
      this.#lent.delete(memory);
      this.#keep(loan.buffer);
    }
    this.#loans = [];
  }

  #isLent(memory: ArrayBufferLike | undefined): boolean {
    return memory !== undefined && this.#lent.has(memory);
  }

  #keep(buffer: Buffer): void {
    if (this.#free.length < this.maxFree) this.#free.push(buffer);
  }
}
