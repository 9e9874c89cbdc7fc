/** Deletes what Weir made on a NATS server under these prefixes: a stream per topic and the positions bucket. */
export async function dropNatsStreams(url: string, prefixes: readonly string[]): Promise<void> {
  const { connect } = await import('@nats-io/transport-node')
  const { jetstreamManager } = await import('@nats-io/jetstream')
  const nc = await connect({ servers: url })
  const jsm = await jetstreamManager(nc)
  const mine = (name: string) =>
    prefixes.some((p) => name.startsWith(`${p}_`) || name === `KV_${p}-positions`)
  const names: string[] = []
  for await (const s of jsm.streams.list()) if (mine(s.config.name)) names.push(s.config.name)
  for (const name of names) await jsm.streams.delete(name)
  await nc.drain()
}
