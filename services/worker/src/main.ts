import { installSignalHandlers, runService, shutdownAndExit } from '@convoy/lifecycle';
import { createLogger } from '@convoy/logging';
import { loadWorkerConfig } from './config.ts';
import { startService } from './service.ts';

await runService(async () => {
  const config = loadWorkerConfig();
  const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL });
  let fatal: (() => void) | undefined;
  const service = await startService(config, { logger, onFatal: () => fatal?.() });
  fatal = () => void shutdownAndExit(service.shutdown, 'fatal error', process, 1);
  installSignalHandlers(service.shutdown, process, { logger });
});
