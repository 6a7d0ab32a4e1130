/**
 * The house's floors (docs: ../shared/design/layout.md, README "What is where"), checked by `npm run deps` in
 * `npm test`: a floor imports only floors below it, nothing imports in a cycle, and product code never imports the
 * development tools. From the bottom up:
 *   ground    src/{indicators,datasets,config,util,state}, src/errors.ts, src/metrics.ts
 *   plumbing  src/{http,contract}
 *   platform  src/platform          (the ThreatConnect client; knows nothing of verdicts or sources)
 *   context   src/context           (one process's context: settings, logger, metrics, shared state, clients)
 *   systems   src/{enrich,sources}  (on-demand enrichment and its sources), src/{feeds,feed-job} (the feed job),
 *             src/alerts (the alert service: services, formatters, notifiers, outbox); side by side, none imports another
 *   app       src/{routes,plugins,schemas}, src/app.ts, src/server.ts, src/feed-main.ts, src/alerts-main.ts
 */
const GROUND = '^src/(indicators|datasets|config|util|state)/|^src/(errors|metrics)\\.ts$'
const PLUMBING = '^src/(http|contract)/'
const PLATFORM = '^src/platform/'
const CONTEXT = '^src/context/'
const SYSTEMS = '^src/(enrich|sources|feeds|feed-job|alerts)/'
const APP = '^src/(routes|plugins|schemas)/|^src/(app|server|feed-main|alerts-main)\\.ts$'

const above = (from, ...floors) => ({ from: { path: from }, to: { path: floors.join('|') } })

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'No module imports itself through others.', from: {}, to: { circular: true } },
    { name: 'ground-stays-ground', severity: 'error', comment: 'The ground imports only the ground.', ...above(GROUND, PLUMBING, PLATFORM, CONTEXT, SYSTEMS, APP) },
    { name: 'plumbing-below-platform', severity: 'error', comment: 'The request client and the contract know nothing of the platform, the systems or the app.', ...above(PLUMBING, PLATFORM, CONTEXT, SYSTEMS, APP) },
    { name: 'platform-below-systems', severity: 'error', comment: 'The ThreatConnect client is handed what to write; it imports no system.', ...above(PLATFORM, CONTEXT, SYSTEMS, APP) },
    { name: 'context-below-systems', severity: 'error', comment: "The process's context is made of the core; it imports no system.", ...above(CONTEXT, SYSTEMS, APP) },
    { name: 'enrichment-apart', severity: 'error', comment: 'The systems sit side by side: enrichment imports neither the feed job nor the alert service.', from: { path: '^src/(enrich|sources)/' }, to: { path: '^src/(feeds|feed-job|alerts)/' } },
    // The `file` feed reads the watchlist's columns with the watchlist source's parser (src/sources/watchlist-file.ts).
    { name: 'feed-job-apart', severity: 'error', comment: 'The feed job hands new indicators on through a callback; it imports neither enrichment nor alerts.', from: { path: '^src/(feeds|feed-job)/' }, to: { path: '^src/(enrich|alerts)/' } },
    { name: 'alerts-apart', severity: 'error', comment: 'The alert service hears the others through events; it imports neither.', from: { path: '^src/alerts/' }, to: { path: '^src/(enrich|sources|feeds|feed-job)/' } },
    { name: 'systems-below-app', severity: 'error', comment: 'A system never imports the HTTP app.', ...above(SYSTEMS, APP) },
    { name: 'product-never-imports-tools', severity: 'error', comment: 'src/ ships; tools/, scripts/, bench/ and test/ do not.', from: { path: '^src/' }, to: { path: '^(tools|scripts|bench|test)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
}
