import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { loadReorderConfig } from './config.ts';
import { startService, type ReorderService } from './service.ts';

await runService(async () => {
  const config = loadReorderConfig();
  const logger = createLogger({ name: 'reorder-buffer', level: config.LOG_LEVEL });
  let service: ReorderService | undefined;
  service = await startService(config, {
    logger,
    // A stopped partition would hold its records forever: exit, and let the restart recover them.
    onFatal: () => (service === undefined ? process.exit(1) : void shutdownAndExit(service.shutdown, 'partition failed', process, 1)),
  });
  installSignalHandlers(service.shutdown, process, { logger });
});
