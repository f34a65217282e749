import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { loadDemoProducerConfig } from './config.ts';
import { startService } from './service.ts';

await runService(async () => {
  const config = loadDemoProducerConfig();
  const logger = createLogger({ name: 'demo-producer', level: config.LOG_LEVEL });
  const service = await startService(config, { logger });
  installSignalHandlers(service.shutdown, process, { logger });
  // With DEMO_COUNT: exit 0 once every event is sent, 1 if sending failed for good.
  service.done.then(
    ({ sent, countReached }) => {
      if (!countReached) return; // stopped by a signal: that handler exits
      logger.info({ sent }, 'DEMO_COUNT reached');
      void shutdownAndExit(service.shutdown, 'DEMO_COUNT reached', process);
    },
    () => void shutdownAndExit(service.shutdown, 'produce failed', process, 1),
  );
});
