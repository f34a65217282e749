import { createLogger } from '@convoy/logging';
import { installSignalHandlers, runService } from '@convoy/lifecycle';
import { loadGeneratorConfig } from './config.ts';
import { startService } from './service.ts';

await runService(async () => {
  const config = loadGeneratorConfig();
  const logger = createLogger({ name: 'watermark-generator', level: config.LOG_LEVEL });
  const service = await startService(config, { logger });
  installSignalHandlers(service.shutdown, process, { logger });
});
