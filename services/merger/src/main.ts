import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { loadMergerConfig } from './config.ts';
import { startService, type MergerService } from './service.ts';

await runService(async () => {
  const config = loadMergerConfig();
  const logger = createLogger({ name: 'merger', level: config.LOG_LEVEL });
  let service: MergerService | undefined;
  service = await startService(config, {
    logger,
    // A stopped partition would hold its records forever: exit, and let the restart recover them.
    onFatal: () => (service === undefined ? process.exit(1) : void shutdownAndExit(service.shutdown, 'partition failed', process, 1)),
  });
  installSignalHandlers(service.shutdown, process, { logger });
});
