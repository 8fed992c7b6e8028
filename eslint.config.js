// neostandard, the Fastify plugins' linter; `npm run lint` (run by `npm test`).
import neostandard from 'neostandard'

const ignores = ['dist/**', '.demo-build/**', 'benchmarks/.build/**', 'coverage/**', '.tap/**', 'test/types/consumer/**']

export default [
  ...neostandard({ ts: true, ignores }),
  // The browser client and the demo's page script run in the browser.
  ...neostandard({ env: ['browser'], ignores })
    .filter(config => config.languageOptions?.globals !== undefined)
    .map(config => ({ ...config, files: ['public/**/*.js', 'example/public/**/*.js'] }))
]
