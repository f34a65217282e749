import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { loadSplitterConfig } from './config.ts';
import { startService, type SplitterService } from './service.ts';

await runService(async () => {
  const config = loadSplitterConfig();
  const logger = createLogger({ name: 'splitter', level: config.LOG_LEVEL });
  let service: SplitterService | undefined;
  service = await startService(config, {
    logger,
    // A stopped partition would never move again: exit, and let the restart re-read from the committed offset.
    onFatal: () => (service === undefined ? process.exit(1) : void shutdownAndExit(service.shutdown, 'partition failed', process, 1)),
  });
  installSignalHandlers(service.shutdown, process, { logger });
});
