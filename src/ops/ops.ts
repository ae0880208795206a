// The ops module's face: the only file other modules import. Running the platform: metrics, the
// log with secrets scrubbed, maintenance windows and announcements, and the pieces of the public
// status page (assembled with the chains' figures by the composition root).
export { createMetrics, type Metrics } from './metrics.ts';
export { createLogger } from './logging.ts';
export { RUNNING_MESSAGE, prettyStream } from './pretty-log.ts';
export { createMaintenance, type Maintenance } from './maintenance.ts';
export { maintenanceRoutes } from './maintenance-routes.ts';
export { statusRoutes, type ChainStatus } from './status-routes.ts';
export { createAnnouncements, type Announcements } from './announcements.ts';
export { announcementRoutes } from './announcement-routes.ts';
export { recordSamples, sampleHistory, statusSampler, type HistoryPoint } from './status-samples.ts';
export { CHAIN_STATES, depositsState, withdrawalsState, percentile, type ChainFigures, type ChainState } from './status-rules.ts';
