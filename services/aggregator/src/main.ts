import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { loadAggregatorConfig } from './config.ts';
import { startService, type AggregatorService } from './service.ts';

await runService(async () => {
  const config = loadAggregatorConfig();
  const logger = createLogger({ name: 'aggregator', level: config.LOG_LEVEL });
  let service: AggregatorService | undefined;
  service = await startService(config, {
    logger,
    // A stopped partition would hold its windows forever: exit, and let the restart restore them.
    onFatal: () => (service === undefined ? process.exit(1) : void shutdownAndExit(service.shutdown, 'partition failed', process, 1)),
  });
  installSignalHandlers(service.shutdown, process, { logger });
});
