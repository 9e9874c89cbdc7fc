import { z } from 'zod'

/** Shared by every stream kind that has partitions. */
export const partitionsSchema = z
  .number()
  .int()
  .min(1)
  .max(1024)
  .default(1)
  .describe(
    'Partitions of each new topic; records with the same key keep their order in one. A topic keeps the count it was created with.',
  )
