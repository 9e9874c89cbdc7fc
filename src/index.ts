// The public API of the `weir` package: everything a project or an embedding program may use,
// exported by name. test/public-api.test.ts keeps this list and package.json's exports in step.

export {
  type Column,
  getTable,
  listTables,
  putTable,
  type TableEntry,
  tableFiles,
  ZONES,
  type Zone,
} from './catalog/catalog.js'
export { DIALECTS, type Dialect, tableDdl } from './catalog/ddl.js'
export { type GlueSyncOptions, type GlueSyncResult, syncGlue } from './catalog/glue.js'
export { attachLake } from './catalog/views.js'
export { defineConfig } from './config/define.js'
export { CONFIG_FILES, type LoadConfigOptions, type LoadedConfig, loadConfig } from './config/load.js'
export {
  configSchema,
  type SourceConfig,
  type WeirConfig,
  type WeirConfigInput,
} from './config/schema.js'
export { errorMessage, isRetryable, type Stage, WeirError, type WeirErrorOptions } from './core/errors.js'
export { partitionPath, tableLocation } from './core/paths.js'
export type { SourceRecord } from './core/records.js'
export { formatBytes, parseBytes, parseDuration } from './core/units.js'
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type JsonValue,
  type QueryResult,
  type QueryStream,
} from './engine/engine.js'
export { type LandingOptions, type LandingResult, land } from './landing/landing.js'
export { type DemoOptions, type DemoReport, runDemo } from './pipeline/demo.js'
export { type DoctorCheck, doctor } from './pipeline/doctor.js'
export { type OpenOptions, openPipeline, type Pipeline, type StageSummary } from './pipeline/pipeline.js'
export { type CompactResult, compact } from './refine/compact.js'
export {
  type RefineOptions,
  type RefineResult,
  type RefineStatus,
  refine,
  refineStatus,
} from './refine/refine.js'
export { parseRewind, type RewindResult, type RewindTarget, rewind } from './refine/rewind.js'
export type { CodeSourceBatch, CodeSourceContext } from './sources/code/code-source.js'
export { createFileSource, type FileSourceConfig } from './sources/file/file-source.js'
export { type IngestOptions, type IngestResult, ingest } from './sources/ingest.js'
export { createSource, SOURCE_KINDS } from './sources/registry.js'
export { PRESETS, SERVICES } from './sources/rest/presets.js'
export type { RestSourceConfig } from './sources/rest/rest-schema.js'
export { createRestSource } from './sources/rest/rest-source.js'
export {
  type Fault,
  type LoggedRequest,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './sources/simulator/simulator.js'
export type {
  PullContext,
  RawFile,
  Source,
  SourceBatch,
  SourceDefinition,
  SourceEnv,
  SourceState,
} from './sources/source.js'
export { createStateStore, type StateStore } from './state/state.js'
export { createLocalStore } from './storage/local/local-store.js'
export { openStore } from './storage/registry.js'
export { createS3Store, type S3StoreOptions } from './storage/s3/s3-store.js'
export type { ObjectInfo, ObjectStore, StoreCapabilities } from './storage/storage.js'
export { type LakeLocation, parseLakeUri } from './storage/uri.js'
export { defaultStreamDir } from './stream/embedded/embedded-definition.js'
export { createEmbeddedStream } from './stream/embedded/embedded-stream.js'
export { createKinesisStream } from './stream/kinesis/kinesis-stream.js'
export { createNatsStream } from './stream/nats/nats-stream.js'
export { openStream } from './stream/registry.js'
export type {
  Checkpoint,
  Consumer,
  ConsumerOptions,
  Delivery,
  GroupStatus,
  Position,
  StartAt,
  Stream,
  StreamRecordInput,
} from './stream/stream.js'
export { checkpointOf, compareOffsets } from './stream/stream.js'
