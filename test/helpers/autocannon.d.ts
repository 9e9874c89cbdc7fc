declare module 'autocannon' {
  const autocannon: (options: object) => Promise<unknown>
  export default autocannon
}
