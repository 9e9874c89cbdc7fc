import { dropTable, listTables } from '../catalog/catalog.js'
import type { ObjectStore } from '../storage/storage.js'
import type { Project } from './project.js'

/**
 * The refined tables a model built whose model is no longer in the project (its file deleted or
 * renamed): dropped, catalog entry and files, so nothing goes on reading what no SQL makes any more.
 * Tables the catalog has from elsewhere (no model state) are left alone.
 */
export async function dropRemovedModels(store: ObjectStore, project: Project): Promise<string[]> {
  const dropped: string[] = []
  for (const t of await listTables(store, 'refined')) {
    if (!t.model || project.models.has(t.name)) continue
    await dropTable(store, t)
    dropped.push(t.name)
  }
  return dropped
}
