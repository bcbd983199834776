import { GenericContainer, Network } from 'testcontainers'
const n = await new Network().start()
const c = await new GenericContainer('minimesh/bookinfo-details:0.1.0').withNetwork(n).withExposedPorts(9080).withWaitStrategy({ waitUntilReady: async () => {}, withStartupTimeout() { return this }, isStartupTimeoutSet: () => false, setStartupTimeout() {} }).start().catch(e => { console.log('start err', e.message); process.exit(1) })
console.log('host', c.getHost(), 'port', c.getMappedPort(9080), 'ip', c.getIpAddress(n.getName()), c.getId())
await new Promise((r) => setTimeout(r, 60000))
