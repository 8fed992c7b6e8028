// A CommonJS project on Node 20.19+ requires the package (require(esm)); nodenext only.
import sessionSecurityModule = require('fastify-session-security')
import storeModule = require('fastify-session-security/store')

const plugin: typeof sessionSecurityModule.default = sessionSecurityModule.default
const Store: typeof storeModule.SessionSecurityStore = storeModule.SessionSecurityStore

export = { plugin, Store }
