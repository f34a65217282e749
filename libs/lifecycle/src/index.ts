export type { Shutdown, ShutdownLogger, ShutdownOptions, ShutdownReport, ShutdownStep, StepReport, StepStatus } from './shutdown.ts';
export { createShutdown, SHUTDOWN_STARTED } from './shutdown.ts';
export type { ExitProcess, ServiceProcess, SignalOptions, SignalProcess } from './process.ts';
export { formatFatal, installSignalHandlers, runService, shutdownAndExit } from './process.ts';
export type { ServiceHandle, ServiceShell, ServiceShellOptions, ShellConfig, ShellLogger } from './service-shell.ts';
export { createServiceShell } from './service-shell.ts';
