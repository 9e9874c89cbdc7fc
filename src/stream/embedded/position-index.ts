const CHUNK = 1 << 16

/**
 * Byte position of every offset of a segment, 4 bytes each in fixed chunks: positions within one
 * segment stay below 4 GiB (segments are capped at 2 GiB), a plain array would box large numbers
 * (about 6x the memory), and one growing typed array would copy itself as it grows.
 */
export class PositionIndex {
  private readonly chunks: Uint32Array[] = []
  length = 0

  push(pos: number): void {
    const i = this.length % CHUNK
    if (i === 0) this.chunks.push(new Uint32Array(CHUNK))
    this.chunks[this.chunks.length - 1]![i] = pos
    this.length++
  }

  get(offset: number): number {
    return this.chunks[Math.floor(offset / CHUNK)]![offset % CHUNK]!
  }

  truncate(length: number): void {
    this.length = length
    this.chunks.length = Math.ceil(length / CHUNK)
  }
}
