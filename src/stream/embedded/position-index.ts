const CHUNK = 1 << 16

/**
 * Byte position of every offset of a segment, 8 bytes each in fixed chunks of doubles: a plain array
 * would box positions past 1 GiB as heap numbers (about 3x the memory), and one growing typed array
 * would copy itself as it grows.
 */
export class PositionIndex {
  private readonly chunks: Float64Array[] = []
  length = 0

  push(pos: number): void {
    const i = this.length % CHUNK
    if (i === 0) this.chunks.push(new Float64Array(CHUNK))
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
