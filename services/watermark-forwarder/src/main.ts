import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { loadForwarderConfig } from './config.ts';
import { startService, type ForwarderService } from './service.ts';

await runService(async () => {
  const config = loadForwarderConfig();
  const logger = createLogger({ name: 'watermark-forwarder', level: config.LOG_LEVEL });
  let service: ForwarderService | undefined;
  service = await startService(config, {
    logger,
    // A stopped partition would hold the combined watermark forever: exit, and let the restart recover.
    onFatal: () => (service === undefined ? process.exit(1) : void shutdownAndExit(service.shutdown, 'partition failed', process, 1)),
  });
  installSignalHandlers(service.shutdown, process, { logger });
});
